#!/usr/bin/python3
"""Render the chat-template goldens for internal/tokenizer/chat with Python's jinja2.

The environment mirrors transformers' render_jinja_template: ImmutableSandboxedEnvironment
with trim_blocks, lstrip_blocks and the loopcontrols extension, tojson as json.dumps with
ensure_ascii=False, and the raise_exception and strftime_now globals. strftime_now reads a
fixed clock (FIXED_NOW) so goldens are stable; the Go test uses the same instant.

Usage: /usr/bin/python3 scripts/chat_golden/render.py   (from the repository root)
Writes internal/tokenizer/chat/testdata/golden/<template>__<case>.txt, or .err holding
"raise: <message>" when the template calls raise_exception, or "error: <type>: <message>"
when rendering fails another way (TypeError on None content, …).
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TD = os.path.join(ROOT, "internal", "tokenizer", "chat", "testdata")
FIXED_NOW = datetime.datetime(2026, 1, 15, 9, 30, 0)

# Special tokens each model's tokenizer_config.json defines (None = not set).
SPECIAL = {
    "llama3.1": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama3.2": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen2.5": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "mistral-v0.3": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "smollm2": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>", "pad_token": "<|im_end|>"},
    "tinyllama": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>"},
    "deepseek-coder": {"bos_token": "<\uff5cbegin\u2581of\u2581sentence\uff5c>", "eos_token": "<|EOT|>", "pad_token": "<\uff5cend\u2581of\u2581sentence\uff5c>"},
    "phi-4": {"bos_token": "<|endoftext|>", "eos_token": "<|im_end|>", "pad_token": "<|dummy_87|>"},
    "qwen2-vl": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
}


class TemplateError(Exception):
    pass


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    env = environment()
    tdir = os.path.join(TD, "templates")
    cdir = os.path.join(TD, "cases")
    gdir = os.path.join(TD, "golden")
    os.makedirs(gdir, exist_ok=True)
    for old in os.listdir(gdir):
        os.remove(os.path.join(gdir, old))
    n = 0
    for tname in sorted(os.listdir(tdir)):
        if not tname.endswith(".jinja"):
            continue
        model = tname[: -len(".jinja")]
        with open(os.path.join(tdir, tname), encoding="utf-8") as f:
            template = env.from_string(f.read())
        for cname in sorted(os.listdir(cdir)):
            if not cname.endswith(".json"):
                continue
            with open(os.path.join(cdir, cname), encoding="utf-8") as f:
                case = json.load(f)
            ctx = dict(SPECIAL[model])
            ctx.update(case.get("kwargs", {}))
            ctx["messages"] = case["messages"]
            ctx["tools"] = case.get("tools")
            ctx["documents"] = None
            ctx["add_generation_prompt"] = case.get("add_generation_prompt", False)
            base = os.path.join(gdir, model + "__" + cname[: -len(".json")])
            try:
                out = template.render(**ctx)
                path, data = base + ".txt", out
            except TemplateError as e:
                path, data = base + ".err", "raise: " + str(e)
            except Exception as e:  # the template failed on this input (TypeError, UndefinedError, ...)
                path, data = base + ".err", "error: " + type(e).__name__ + ": " + str(e)
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(data)
            n += 1
    # Feature snippets: small templates exercising one area each, rendered with a shared context.
    sdir = os.path.join(TD, "snippets")
    with open(os.path.join(TD, "snippet_context.json"), encoding="utf-8") as f:
        sctx = json.load(f)
    for sname in sorted(os.listdir(sdir)):
        if not sname.endswith(".jinja"):
            continue
        with open(os.path.join(sdir, sname), encoding="utf-8") as f:
            src = f.read()
        base = os.path.join(gdir, "snippet__" + sname[: -len(".jinja")])
        try:
            out = env.from_string(src).render(**sctx)
            path, data = base + ".txt", out
        except TemplateError as e:
            path, data = base + ".err", "raise: " + str(e)
        except Exception as e:
            path, data = base + ".err", "error: " + type(e).__name__ + ": " + str(e)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(data)
        n += 1
    print(f"wrote {n} goldens with jinja2 {jinja2.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
