#!/usr/bin/env python3
"""Reference tokenization with Hugging Face `tokenizers` (and `transformers`).

Usage: hf_tokenize.py TOKENIZER_DIR REQUEST_JSON OUTPUT_JSON

REQUEST_JSON: {"texts": [str], "decode": [[int]], "messages": [{role, content}],
               "use_transformers": bool, "sentencepiece_model": path}
OUTPUT_JSON:  {"ids": [[int]]                  tokenizers.Tokenizer.encode(text).ids
               "ids_plain": [[int]]            ... add_special_tokens=False
               "decoded": [str]                decode(ids, skip_special_tokens=True)
               "decoded_keep_special": [str]   decode(ids, skip_special_tokens=False)
               and with use_transformers, from AutoTokenizer.from_pretrained:
               "transformers_ids": [[int]]     tokenizer(text)["input_ids"]
               "chat": str                     apply_chat_template(messages, tokenize=False)
               "chat_with_prompt": str         ... add_generation_prompt=True}
With "sentencepiece_model" the reference is the sentencepiece library on
that tokenizer.model instead: ids_plain = encode(text), ids = [bos] + that,
decoded = decode(ids) (control pieces decode to nothing).
"""
import json
import os
import sys

from tokenizers import Tokenizer


def sentencepiece_reference(model_file, texts, to_decode):
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=model_file)
    plain = sp.encode(texts)
    bos = [sp.bos_id()] if sp.bos_id() >= 0 else []
    return {
        "ids": [bos + ids for ids in plain],
        "ids_plain": plain,
        "decoded": [sp.decode(ids) for ids in to_decode],
    }


def main() -> None:
    tokenizer_dir, request_path, output_path = sys.argv[1:4]
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)

    texts = request.get("texts", [])
    to_decode = request.get("decode", [])
    if request.get("sentencepiece_model"):
        out = sentencepiece_reference(request["sentencepiece_model"], texts, to_decode)
        with open(output_path, "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False)
        return

    tokenizer = Tokenizer.from_file(os.path.join(tokenizer_dir, "tokenizer.json"))
    out = {
        "ids": [e.ids for e in tokenizer.encode_batch(texts)],
        "ids_plain": [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)],
        "decoded": [tokenizer.decode(ids, skip_special_tokens=True) for ids in to_decode],
        "decoded_keep_special": [
            tokenizer.decode(ids, skip_special_tokens=False) for ids in to_decode
        ],
    }

    if request.get("use_transformers"):
        from transformers import AutoTokenizer

        auto = AutoTokenizer.from_pretrained(tokenizer_dir)
        out["transformers_ids"] = [auto(text)["input_ids"] for text in texts]
        messages = request.get("messages", [])
        out["chat"] = auto.apply_chat_template(messages, tokenize=False)
        out["chat_with_prompt"] = auto.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    with open(output_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
