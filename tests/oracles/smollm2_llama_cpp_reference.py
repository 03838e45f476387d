"""llama.cpp's own results on SmolLM2-135M-Instruct, for the committed
reference that tests/parity/smollm2_llama_cpp_test.cpp compares mlxt with.

Usage (in a venv with llama-cpp-python built from its sdist, and gguf):
  smollm2_llama_cpp_reference.py MODEL.Q4_1.gguf FIXTURES_DIR OUT_DIR
e.g. to refresh the committed reference (the build takes ~10 minutes on 2
cores; CC/CXX must be the compiler of the system's libstdc++):
  python3 -m venv .deps/oracle-venv
  CC=gcc CXX=g++ CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BLAS=OFF \
    -DGGML_OPENMP=OFF -DLLAVA_BUILD=OFF" .deps/oracle-venv/bin/pip install \
    llama-cpp-python==0.3.36 --no-binary llama-cpp-python numpy gguf==0.19.0
  .deps/oracle-venv/bin/python tests/oracles/smollm2_llama_cpp_reference.py \
    ~/.cache/mlxt/models/SmolLM2-135M-Instruct.Q4_1.gguf ../shared/fixtures \
    tests/fixtures/smollm2_llama_cpp
The committed one was made this way on an x86-64 machine with 16 cores
(its "host" entry); only its "command" paths differ.

llama.cpp reads, tokenizes and evaluates the GGUF itself; nothing of MLX or
mlxt is involved. Two files are evaluated:
  - an F32 copy of the model (tests/oracles/gguf_dequantize_f32.py): with
    F32 weights and an F32 KV cache llama.cpp computes the exact dequantized
    model in fp32, the target for the 1e-3 logit comparison;
  - the Q4_1 file itself: llama.cpp's CPU kernels quantize activations to Q8
    for Q4_1/Q8_0 dot products, so these logits differ from the exact
    computation; recorded for a looser comparison.

Writes OUT_DIR/logits.safetensors ("f32", "q4_1": (5, V) float32, the logits
at the last prompt position) and OUT_DIR/reference.json: the prompts and
llama.cpp's ids for them, 32-token greedy continuations from both files,
llama.cpp's token ids for the tokenizer texts (edge cases plus paragraphs of
the public-domain corpora in FIXTURES_DIR), the llama-cpp-python version,
the SHA-256 of both GGUF files and the command that made it.
"""

import hashlib
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import llama_cpp
import numpy as np

PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):",
    "Once upon a time, in a small village,",
    "The three primary colors are",
    "Water boils at 100 degrees Celsius, which is",
]
GREEDY_TOKENS = 32
THREADS = 2
GGML_TYPE_F32 = 0

EDGE_CASES = [
    "In 2024, 1234567 people paid $3.50 each.",
    "  leading and   inner  spaces\n\n\ttabs\r\nand newlines  ",
    "It's, they're, we'll, I'd, you've, she's. IT'S THEY'RE",
    "Grüße aus München — naïve café, 東京, Привет мир! 😀🚀 ١٢٣",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n"
    "What is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "x = [i**2 for i in range(10)]  # squares\n\tif x:\n\t\treturn {'a': 1}",
    "<|endoftext|>text<|endoftext|><|im_end|>",
    "",
    " ",
    "\n\n\n",
    "3.14159 2e-10 0x1F 1,000,000 12:30pm",
    "https://example.com/path?q=1&r=two#frag user@example.org",
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def corpus_texts(fixtures):
    """Paragraphs of the-verdict and blocks of tinyshakespeare (public
    domain), so the reference needs no fixtures at test time."""
    verdict = (fixtures / "corpora/the-verdict/the-verdict.txt").read_text()
    texts = [p for p in verdict.split("\n\n") if p.strip()]
    shakespeare = (fixtures / "corpora/tinyshakespeare/input.txt").read_text()
    blocks = [b for b in shakespeare.split("\n\n") if b.strip()]
    return texts + blocks[:200]


def open_model(path):
    return llama_cpp.Llama(
        model_path=str(path),
        n_ctx=256,
        n_batch=256,
        n_threads=THREADS,
        n_threads_batch=THREADS,
        logits_all=True,
        type_k=GGML_TYPE_F32,
        type_v=GGML_TYPE_F32,
        flash_attn=False,
        verbose=False,
    )


def evaluate(llm, prompt_ids):
    """Last-position logits and the greedy continuation of each prompt."""
    last, greedy = [], []
    for ids in prompt_ids:
        llm.reset()
        llm.eval(ids)
        last.append(np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32))
        out = []
        for _ in range(GREEDY_TOKENS):
            token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            out.append(token)
            llm.eval([token])
        greedy.append(out)
    return np.stack(last), greedy


def save_safetensors(path, tensors):
    """fp32 safetensors, written directly (no torch/mlx in this venv)."""
    header, offset, blobs = {}, 0, []
    for name, a in tensors.items():
        data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little") + head)
        for b in blobs:
            f.write(b)


def main():
    gguf_file, fixtures, out_dir = (Path(a) for a in sys.argv[1:4])
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        f32_file = Path(tmp) / "smollm2-f32.gguf"
        subprocess.run([sys.executable,
                        str(Path(__file__).with_name("gguf_dequantize_f32.py")),
                        str(gguf_file), str(f32_file)], check=True)
        f32 = open_model(f32_file)
        tokenize = lambda t: f32.tokenize(t.encode(), add_bos=False, special=True)
        prompt_ids = [tokenize(p) for p in PROMPTS]
        texts = EDGE_CASES + corpus_texts(fixtures)
        text_ids = [tokenize(t) for t in texts]
        f32_logits, f32_greedy = evaluate(f32, prompt_ids)
        f32_sha = sha256(f32_file)
        del f32
    q4 = open_model(gguf_file)
    q4_logits, q4_greedy = evaluate(q4, prompt_ids)
    save_safetensors(out_dir / "logits.safetensors",
                     {"f32": f32_logits, "q4_1": q4_logits})
    reference = {
        "made_by": "tests/oracles/smollm2_llama_cpp_reference.py",
        "command": " ".join(["python", *sys.argv]),
        "llama_cpp_python": llama_cpp.__version__,
        "built_with": "CC=gcc CXX=g++ CMAKE_ARGS='-DGGML_NATIVE=OFF "
                      "-DGGML_BLAS=OFF -DGGML_OPENMP=OFF -DLLAVA_BUILD=OFF' "
                      "pip wheel llama-cpp-python (from its PyPI sdist)",
        "host": f"{platform.platform()} {platform.machine()} "
                f"python {platform.python_version()}",
        "settings": {"n_threads": THREADS, "type_k": "f32", "type_v": "f32",
                     "flash_attn": False, "logits_all": True,
                     "tokenize": "add_bos=False, special=True"},
        "gguf_sha256": sha256(gguf_file),
        "f32_gguf_sha256": f32_sha,
        "prompts": PROMPTS,
        "prompt_ids": prompt_ids,
        "greedy_f32": f32_greedy,
        "greedy_q4_1": q4_greedy,
        "q4_1_vs_f32_max_abs_logit": float(np.abs(q4_logits - f32_logits).max()),
        "texts": texts,
        "text_ids": text_ids,
    }
    # One key a line: readable diffs without one line per token id.
    lines = [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
             for k, v in reference.items()]
    (out_dir / "reference.json").write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print(f"wrote {out_dir}: q4_1 vs f32 max |dlogit| "
          f"{reference['q4_1_vs_f32_max_abs_logit']:.4f}")


if __name__ == "__main__":
    main()
