"""People's names: proper case (``'MCDONALD'`` -> ``'McDonald'``, family-name
particles such as van and de), and whether a name was typed ALL CAPS or all lower case."""

from __future__ import annotations

import re

from ..workbook import Cell
from .cells import text

# Lower-case particles of family names ("Ludwig van Beethoven", "Ana de la Cruz").
NAME_PARTICLES = frozenset(
    {
        "van",
        "der",
        "den",
        "de",
        "von",
        "da",
        "di",
        "du",
        "del",
        "della",
        "dos",
        "das",
        "do",
        "ten",
        "ter",
        "zu",
        "la",
        "le",
    }
)
# "Mac" is only capitalised inside these names: Mack, Macy, Mace, Machado, Macias,
# Mackie ... are names of their own, so a rule on the prefix would spoil them.
MAC_NAMES = frozenset(
    {
        "macarthur", "macaulay", "macbeth", "maccallum", "macdonald", "macdougall", "macdowell",
        "macfarlane", "macgregor", "macinnes", "macintosh", "macintyre", "mackay", "mackenzie",
        "mackinnon", "mackintosh", "maclachlan", "maclean", "maclennan", "macleod", "macmillan",
        "macnamara", "macneil", "macneill", "macpherson", "macquarie", "macrae", "macsween",
    }
)  # fmt: skip
_ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii"})


def _cap(part: str) -> str:
    """First letter upper, the rest lower, never changing the length (``ß``, ``ﬁ``
    have no one-letter capital, so they stay as they are: that keeps it idempotent)."""
    if not part:
        return part
    first, rest = part[0], part[1:].lower()
    up = first.upper()
    if len(up) != 1 or up.lower() != first.lower():
        up = first
    return up + rest


def _proper_word(word: str) -> str:
    low = word.lower()
    if low in _ROMAN:
        return low.upper()
    if low.startswith("mc") and len(low) > 2 and low[2].isalpha():
        return "Mc" + _cap(low[2:])
    if low in MAC_NAMES:
        return "Mac" + _cap(low[3:])
    return _cap(low)


def proper_name(value: Cell, *, family: bool = False) -> str:
    """A name in proper case: ``'MARY-JANE O'NEIL'`` -> ``'Mary-Jane O'Neil'``,
    ``'mcdonald'`` -> ``'McDonald'``, family name ``'VAN DER BERG'`` -> ``'van der Berg'``.

    Particles (van, der, de, von ...) are lower case in a family name, or inside a full
    name, but never as the last word (the given name "Di" stays "Di"). Idempotent.
    """
    words = text(value).split(" ")
    out: list[str] = []
    for i, word in enumerate(words):
        low = word.lower()
        last = i == len(words) - 1
        if low in NAME_PARTICLES and not last and (family or i > 0):
            out.append(low)
            continue
        pieces = re.split(r"([-'’])", word)
        fixed: list[str] = []
        for j, piece in enumerate(pieces):
            if j >= 2 and pieces[j - 1] in "'’" and len(pieces[j - 2]) > 1:
                # Jones's -> Jones's, not Jones'S; but O'neil -> O'Neil, d'arcy -> D'Arcy.
                fixed.append(piece.lower() if len(piece) <= 1 else _proper_word(piece))
            else:
                fixed.append(_proper_word(piece))
        out.append("".join(fixed))
    return " ".join(out)


def case_problem(value: str) -> bool:
    """True for a name typed ALL CAPS or all lower case (at least two letters)."""
    letters = [ch for ch in value if ch.isalpha()]
    if len(letters) < 2:
        return False
    cased = [ch for ch in letters if ch.isupper() or ch.islower()]
    if len(cased) < 2:
        return False  # scripts without case (Chinese, Arabic ...) are fine as they are
    return all(ch.isupper() for ch in cased) or all(ch.islower() for ch in cased)
