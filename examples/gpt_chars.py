"""Characters and token ids of zkinfer's tiny GPT (`make demo`).

    python3 examples/gpt_chars.py encode "they had a large"   # {"tokens": [...]} on stdout
    zkinfer verify ... --json | python3 examples/gpt_chars.py decode

`decode` reads `zkinfer verify --json` (or `infer --json`) on stdin and
prints the proven next character, the class, as text.
"""

import json
import os
import sys

VOCAB = os.path.join(os.path.dirname(__file__), "..", "models", "fixtures", "tiny_gpt", "tiny_gpt.vocab.json")


def main():
    with open(VOCAB) as f:
        chars = json.load(f)["chars"]
    if sys.argv[1:2] == ["encode"] and len(sys.argv) == 3:
        prompt = sys.argv[2].lower()
        unknown = sorted(set(prompt) - set(chars))
        if len(prompt) != 16 or unknown:
            sys.exit(f"the prompt must be 16 characters of {''.join(chars)!r}; "
                     f"{prompt!r} has {len(prompt)}{', and ' + repr(''.join(unknown)) if unknown else ''}")
        print(json.dumps({"tokens": [chars.index(c) for c in prompt]}))
    elif sys.argv[1:] == ["decode"]:
        report = json.load(sys.stdin)
        c = report["class"]
        if "verified" in report:
            print(f"proven next character: {chars[c]!r} (token {c}; verified: {str(report['verified']).lower()})")
        else:
            print(f"next character: {chars[c]!r} (token {c}; inferred, not proved)")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
