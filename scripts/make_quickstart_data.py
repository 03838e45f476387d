"""Writes datasets/quickstart/{train,valid,test}.jsonl: the chat dataset the
quickstart fine-tunes on. Three templated tasks over a few items each, so a
small model sees every item in several phrasings and learns them in a few
minutes, each with an answer style a random model cannot produce:
greeting a named person, giving an antonym, and naming an object's colour.

Usage: python3 scripts/make_quickstart_data.py  (deterministic: seed 0)
"""

import json
import random
from pathlib import Path

NAMES = """Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Nina Oscar
Peggy Victor Wendy Zoe Chen Elena Kofi Olga""".split()

ANTONYMS = {
    "hot": "cold", "big": "small", "fast": "slow", "up": "down", "light": "dark",
    "happy": "sad", "old": "new", "full": "empty", "loud": "quiet", "wet": "dry",
}

COLOURS = {
    "sky": "blue", "grass": "green", "banana": "yellow", "snow": "white",
    "coal": "black", "tomato": "red", "carrot": "orange", "plum": "purple",
    "lemon": "yellow", "leaf": "green", "cherry": "red", "milk": "white",
}


def examples(rng: random.Random):
    for name in NAMES:
        yield (f"Say hello to {name}.", f"Hello, {name}! Nice to meet you.")
        yield (f"Please greet {name}.", f"Hello, {name}! Nice to meet you.")
        yield (f"Greet {name}.", f"Hello, {name}! Nice to meet you.")
        yield (f"Can you say hi to {name}?", f"Hello, {name}! Nice to meet you.")
        yield (f"Say hi to {name}.", f"Hello, {name}! Nice to meet you.")
        yield (f"Welcome {name}.", f"Hello, {name}! Nice to meet you.")
    for word, opposite in ANTONYMS.items():
        yield (f"What is the opposite of {word}?", f"The opposite of {word} is {opposite}.")
        yield (f"What is the opposite of {opposite}?", f"The opposite of {opposite} is {word}.")
        yield (f"Give the opposite of {word}.", f"The opposite of {word} is {opposite}.")
        yield (f"Give the opposite of {opposite}.", f"The opposite of {opposite} is {word}.")
        yield (f"Opposite of {word}?", f"The opposite of {word} is {opposite}.")
        yield (f"Opposite of {opposite}?", f"The opposite of {opposite} is {word}.")
    for thing, colour in COLOURS.items():
        yield (f"What colour is the {thing}?", f"The {thing} is {colour}.")
        yield (f"Which colour is the {thing}?", f"The {thing} is {colour}.")
        yield (f"Tell me the colour of the {thing}.", f"The {thing} is {colour}.")
        yield (f"What is the colour of the {thing}?", f"The {thing} is {colour}.")


def main() -> None:
    rng = random.Random(0)
    rows = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in examples(rng)
    ]
    rng.shuffle(rows)
    n = len(rows)
    splits = {"valid": rows[: n // 10], "test": rows[n // 10 : n // 5], "train": rows[n // 5 :]}
    out = Path(__file__).resolve().parent.parent / "datasets" / "quickstart"
    out.mkdir(parents=True, exist_ok=True)
    for split, items in splits.items():
        with open(out / f"{split}.jsonl", "w") as f:
            for row in items:
                f.write(json.dumps(row) + "\n")
        print(f"{split}: {len(items)} rows")


if __name__ == "__main__":
    main()
