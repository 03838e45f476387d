"""Writes datasets/smollm2-json/{train,valid}.jsonl: prompt/completion rows
that teach SmolLM2-135M-Instruct one answer format it never uses on its own:
a one-line JSON object {"answer": ..., "topic": ...}.

The rows should teach the format and nothing else, so that every answer
keeps its fact after training:
- Only facts the base model already states: capitals and opposites it
  answers right in prose (checked by greedy generation), and colours
  everyone knows. Animal sounds are left out: the base model names none of
  them, so rows about them taught new answers, and a held-out "cat" came
  back as the last sound seen in training ("hoot").
- Many different facts, no answer used more than a few times, so that no
  answer becomes a likely guess for an unseen question.
The quickstart asks the held-out questions before and after training and
checks each answer (scripts/quickstart).

Usage: python3 scripts/make_smollm2_data.py  (deterministic: seed 0)
"""

import json
import random
from pathlib import Path

CAPITALS = {
    "France": "Paris", "Japan": "Tokyo", "Germany": "Berlin",
    "England": "London", "Russia": "Moscow", "China": "Beijing",
    "Egypt": "Cairo", "Greece": "Athens", "Canada": "Ottawa",
    "Ireland": "Dublin", "Austria": "Vienna", "Poland": "Warsaw",
    "Norway": "Oslo", "Sweden": "Stockholm", "Peru": "Lima", "Cuba": "Havana",
    "Kenya": "Nairobi", "Thailand": "Bangkok", "South Korea": "Seoul",
    "India": "New Delhi", "Australia": "Canberra", "Hungary": "Budapest",
    "the Netherlands": "Amsterdam", "Scotland": "Edinburgh", "Iran": "Tehran",
    "Chile": "Santiago",
}
COLOURS = {
    "the sky": "blue", "grass": "green", "a banana": "yellow", "snow": "white",
    "coal": "black", "a tomato": "red", "a carrot": "orange",
    "chocolate": "brown", "a flamingo": "pink", "an elephant": "grey",
    "a lemon": "yellow", "a strawberry": "red", "a frog": "green",
    "a crow": "black", "a cloud": "white", "the sea": "blue",
}
OPPOSITES = {
    "hot": "cold", "big": "small", "fast": "slow", "up": "down",
    "happy": "sad", "full": "empty", "wet": "dry", "open": "closed",
    "day": "night", "early": "late", "left": "right", "hard": "soft",
    "yes": "no", "long": "short", "black": "white", "love": "hate",
    "strong": "weak", "thick": "thin", "high": "low", "push": "pull",
    "buy": "sell", "true": "false", "alive": "dead", "north": "south",
    "east": "west", "inside": "outside", "top": "bottom", "sweet": "sour",
    "friend": "enemy", "war": "peace",
}

TASKS = [
    (CAPITALS, "geography", ["What is the capital of {}?",
                             "Name the capital city of {}."]),
    (COLOURS, "colours", ["What colour is {}?", "Which colour does {} have?"]),
    (OPPOSITES, "words", ["What is the opposite of {}?",
                          "Give the opposite of the word {}."]),
]

# Held out of training: the quickstart asks these before and after.
HELD_OUT = {"France", "Japan", "the sky", "hot"}


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
