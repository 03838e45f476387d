"""Writes datasets/smollm2-json/{train,valid}.jsonl: prompt/completion rows
that teach SmolLM2-135M-Instruct one answer format it never uses on its own:
a one-line JSON object {"answer": ..., "topic": ...}. The questions are
facts the base model mostly knows (capitals, colours, animal sounds,
opposites), so what changes after training is the format, visibly.

Usage: python3 scripts/make_smollm2_data.py  (deterministic: seed 0)
"""

import json
import random
from pathlib import Path

CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Spain": "Madrid", "Japan": "Tokyo",
    "Egypt": "Cairo", "Canada": "Ottawa", "Russia": "Moscow", "Greece": "Athens",
    "Portugal": "Lisbon", "Norway": "Oslo", "China": "Beijing", "Peru": "Lima",
}
COLOURS = {
    "the sky": "blue", "grass": "green", "a banana": "yellow", "snow": "white",
    "coal": "black", "a tomato": "red", "a carrot": "orange", "milk": "white",
}
SOUNDS = {
    "a dog": "woof", "a cat": "meow", "a cow": "moo", "a duck": "quack",
    "a sheep": "baa", "a lion": "roar", "a horse": "neigh", "an owl": "hoot",
}
OPPOSITES = {
    "hot": "cold", "big": "small", "fast": "slow", "up": "down",
    "happy": "sad", "old": "new", "full": "empty", "wet": "dry",
}

TASKS = [
    (CAPITALS, "geography", ["What is the capital of {}?",
                             "Name the capital city of {}."]),
    (COLOURS, "colours", ["What colour is {}?", "Which colour does {} have?"]),
    (SOUNDS, "animals", ["What sound does {} make?",
                         "How does {} sound?"]),
    (OPPOSITES, "words", ["What is the opposite of {}?",
                          "Give the opposite of the word {}."]),
]

# Held out of training: the quickstart asks these before and after.
HELD_OUT = {"France", "a cat", "hot", "the sky"}


def rows(rng):
    train, valid = [], []
    for table, topic, phrasings in TASKS:
        for key, value in table.items():
            for phrasing in phrasings:
                row = {"prompt": phrasing.format(key),
                       "completion": json.dumps({"answer": value,
                                                 "topic": topic})}
                (valid if key in HELD_OUT else train).append(row)
    rng.shuffle(train)
    return train, valid


def main():
    out = Path(__file__).resolve().parent.parent / "datasets" / "smollm2-json"
    out.mkdir(parents=True, exist_ok=True)
    train, valid = rows(random.Random(0))
    for name, data in (("train", train), ("valid", valid)):
        with open(out / f"{name}.jsonl", "w") as f:
            for row in data:
                f.write(json.dumps(row) + "\n")
    print(f"wrote {len(train)} train and {len(valid)} valid rows to {out}")


if __name__ == "__main__":
    main()
