"""Writes a copy of a GGUF file with every tensor dequantized to F32.

Usage: gguf_dequantize_f32.py IN.gguf OUT.gguf

Uses only llama.cpp's own `gguf` package (its reader, dequantizer and
writer). Metadata is copied key by key (general.file_type set to ALL_F32);
tensors keep their names, order and GGUF row order. llama.cpp's CPU kernels
quantize activations to Q8 for Q4_1/Q8_0 dot products, so its logits on the
quantized file are not an exact dequantized computation; on this F32 copy
they are, which is what tests/oracles/smollm2_llama_cpp_reference.py needs
for a 1e-3 comparison.
"""

import sys

import gguf
import numpy as np

# Written by GGUFWriter itself (header counts, architecture) or changed here.
SKIPPED_KEYS = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count",
                "general.architecture", "general.file_type"}


def main():
    src, dst = sys.argv[1:3]
    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dst, arch)
    for key, f in reader.fields.items():
        if key in SKIPPED_KEYS:
            continue
        sub_type = f.types[-1] if f.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, f.contents(), f.types[0], sub_type)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    for t in reader.tensors:
        dense = gguf.quants.dequantize(t.data, t.tensor_type)
        writer.add_tensor(t.name, np.ascontiguousarray(dense, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
