"""Claim stubs drafted from a source text (`kg new-source --draft`): one per sentence that gives a
figure or reports someone's words, with its quote, offsets, prefix and suffix already computed.

What a stub cannot know — what kind of claim it is, who made it, what it is about — is left as
TODO for the analyst, who completes each stub or deletes it. A stub is typed ``kg:Claim`` only,
so a file with an untouched stub does not validate (the shapes say which type to give it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Literal

from kg.authoring.quotes import context_around, figures, sentences

#: Words by which a report attributes a statement to someone.
REPORTING = ("according to", "said", "says", "say", "told", "announced", "reported", "stated", "claimed", "estimated",
             "warned", "added", "noted", "continued", "explained", "wrote", "argued", "insisted", "confirmed", "denied",
             "statement", "spokesperson", "spokesman", "spokeswoman")
_REPORTING = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in REPORTING) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Draft:
    """A sentence worth a claim: where it is, its figures and its reporting words."""

    start: int
    end: int
    figures: tuple[str, ...]
    reporting: tuple[str, ...]


def drafts(text: str) -> list[Draft]:
    """The sentences that carry a number or a reporting verb, in text order.

    >>> [(d.figures, d.reporting) for d in drafts("ISIS claimed 153 attacks, CENTCOM said. The sky was blue. "
    ...                                           "Officials announced an amnesty.")]
    [(('153',), ('claimed', 'said')), ((), ('announced',))]
    """
    numbers = figures(text)
    found = []
    for start, end in sentences(text):
        inside = tuple(words for a, b, words in numbers if start <= a and b <= end)
        verbs = tuple(dict.fromkeys(m.group().lower() for m in _REPORTING.finditer(text, start, end)))
        if inside or verbs:
            found.append(Draft(start, end, inside, verbs))
    return found


def draft_claims(text: str, *, source_id: str, language: str = "en", found: list[Draft] | None = None) -> str:
    """Turtle for one claim stub per drafted sentence (``found``, by default :func:`drafts` of the text),
    to append to a new source's file.

    >>> ttl = draft_claims("In July, ISIS claimed 12 attacks, the AP said.", source_id="example-2024")
    >>> "claim:draft-01" in ttl and 'oa:exact "In July, ISIS claimed 12 attacks, the AP said."' in ttl
    True
    >>> "oa:start 0 ; oa:end 46 ]" in ttl
    True
    """
    found = drafts(text) if found is None else found
    if not found:
        return ("\n# kg new-source --draft found no sentence with a figure or a reporting verb in the text:\n"
                "# write the claims from the examples above.\n")
    width = max(2, len(str(len(found))))
    parts = [f"""
# ---- Drafts: {len(found)} sentence{'s' if len(found) != 1 else ''} with a figure or a reporting verb ------------------------------
# Each stub quotes its whole sentence, with offsets, prefix and suffix computed from the text.
# Complete it from the examples above (its type, kind, claimant, what it says), or delete it.
# To quote fewer words, shorten oa:exact and run `kg anchor` to recompute the offsets.
# A stub left as it is does not validate: it is typed kg:Claim only.
"""]
    for number, draft in enumerate(found, 1):
        exact = text[draft.start:draft.end]
        prefix, suffix = context_around(text, draft.start, draft.end)
        said = [f"figures: {', '.join(draft.figures)}"] if draft.figures else []
        said += [f"reported with: {', '.join(draft.reporting)}"] if draft.reporting else []
        context = "".join(f"\n            oa:{name} {Literal(value).n3()} ;" for name, value in (("prefix", prefix),
                                                                                              ("suffix", suffix)) if value)
        parts.append(f"""
# Draft {number} ({draft.start}-{draft.end}) — {'; '.join(said)}
claim:draft-{number:0{width}d}
    a kg:Claim ;  # TODO: kg:QuantityClaim, kg:StanceClaim, kg:StatementClaim or kg:EventClaim, as in the examples
    rdfs:label {Literal("TODO: one line saying what is claimed", lang=language).n3()} ;
    kg:statedIn source:{source_id} ;
    kg:evidence [
        a oa:SpecificResource ; oa:hasSource source:{source_id} ;
        oa:hasSelector [
            a oa:TextQuoteSelector ;
            oa:exact {Literal(exact).n3()} ;{context}
        ] , [ a oa:TextPositionSelector ; oa:start {draft.start} ; oa:end {draft.end} ]
    ] ;
.
""")
    return "".join(parts)
