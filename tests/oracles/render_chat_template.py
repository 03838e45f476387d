#!/usr/bin/env python3
"""Reference chat-template rendering with jinja2, set up as Hugging Face
transformers does (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, HF's tojson / raise_exception / strftime_now / namespace / dict).

Usage: render_chat_template.py REQUEST_JSON OUTPUT_JSON

REQUEST_JSON: {"cases": [{"template": str, "variables": {...}}]}
OUTPUT_JSON:  {"results": [{"ok": true, "text": str} |
                           {"ok": false, "error": "ExceptionType: message"}]}
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationTag(Extension):
    """HF's {% generation %} block; renders its body unchanged."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(
            self.call_method("_render"), [], [], body
        ).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(
        x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
        sort_keys=sort_keys,
    )


def strftime_now(format):
    return datetime.now().strftime(format)


def make_environment():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True,
        extensions=[GenerationTag, loopcontrols],
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    env.globals["dict"] = dict
    return env


def main() -> None:
    request_path, output_path = sys.argv[1:3]
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    env = make_environment()
    compiled = {}
    results = []
    for case in request["cases"]:
        source = case["template"]
        try:
            if source not in compiled:
                compiled[source] = env.from_string(source)
            text = compiled[source].render(**case["variables"])
            results.append({"ok": True, "text": text})
        except Exception as e:  # every failure is a result to compare
            results.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
    with open(output_path, "w", encoding="utf-8") as f:
        json.dump({"results": results}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
