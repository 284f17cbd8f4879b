"""Example inputs from the seed articles (see ../shared/examples.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    text: str
    text_b: str = ""  # a second sentence to compare with, when the example is a pair
    shows: str = ""


PRESETS = (
    Preset("party (celebration)", "students celebrate the graduation with a big party",
           "deputy leader is highly respected in the party", "word sense: 'party' attends to 'celebrate'"),
    Preset("party (politics)", "deputy leader is highly respected in the party",
           "students celebrate the graduation with a big party", "word sense: 'party' attends to 'deputy'"),
    Preset("it = animal", "The animal didn't cross the street because it was too tired.",
           "The animal didn't cross the street because it was too narrow.", "what 'it' refers to"),
    Preset("it = street", "The animal didn't cross the street because it was too narrow.",
           "The animal didn't cross the street because it was too tired.", "one word changes the referent"),
    Preset("elephant", "The white elephant tried to get into the boat but it was too", "",
           "next token; earlier words shaded by attention"),
    Preset("London", "London was", "", "step-by-step generation by hand"),
    Preset("Paris", "Paris will", "", "tokenizer and generation"),
    Preset("word order", "Tim chased clouds all his life.", "Clouds chased Tim all his life.", "position matters"),
    Preset("dog and boy", "The dog looked at the boy and", "The boy looked at the dog and",
           "same words, different next token"),
    Preset("Tom", "Tom is a cat. Tom's favorite food is", "", "long-range dependency"),
    Preset("translation", "我正在吃饭", "", "non-Latin text; tokens shown as text"),
)
PRESETS_BY_NAME = {preset.name: preset for preset in PRESETS}
DEFAULT_PRESET = PRESETS[0]
