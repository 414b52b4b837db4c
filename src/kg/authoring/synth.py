"""A synthetic corpus shaped like the real facts, for benchmarks and scale tests.

``kg synth --sources N --seed S --out DIR`` writes, deterministically for a seed:

- ``DIR/texts/ID.txt``: a generated source text per source;
- ``DIR/facts/synth-reference.ttl``: synthetic places, periods and claimants;
- ``DIR/facts/ID.ttl``: per source, about ten claims quoting its text with offsets — figures
  with relaying chains (a total and its parts, a percentage), a stance, an assessment;
- ``DIR/expected-violations.json``: for ``--invalid-share P``, the known violation planted in
  each invalid file, as (focus node, shape).

Figures are counted over (measure, period, place) keys drawn from a large space, so sources
rarely collide by chance; a share of sources (``--conflict-share``) deliberately reports
another value for a key an earlier source reported, making conflicting claims.

Load the corpus together with the ontology and ``facts/reference.ttl`` (measures, kinds,
qualifiers, roles and topics come from there).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from kg.model.atomicfile import write_text
from kg.model.namespaces import BASE, turtle_prefixes

PREFIXES = turtle_prefixes()

N_PLACES = 60
N_CLAIMANTS = 40
FIRST_YEAR, LAST_YEAR = 1995, 2030
KINDS = ("kg:MilitaryCommand", "kg:ArmedGroup", "kg:GoverningAuthority", "kg:NewsOrganisation", "kg:ThinkTank")
#: The violations --invalid-share plants, each as (name, shape that must catch it).
VIOLATIONS = (
    ("negative-value", "kgsh:QuantityValueShape"),
    ("no-claimant", "kgsh:ClaimClaimantShape"),
    ("offsets-off", "kgsh:OffsetsMatchQuoteShape"),
    ("total-not-sum", "kgsh:TotalEqualsSumOfPartsShape"),
    ("percent-above-100", "kgsh:PercentageRangeShape"),
)


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _months():
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            start = date(year, month, 1)
            end = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
            yield f"synth-{year}-{month:02d}", start, end


MONTHS = list(_months())


def reference_ttl() -> str:
    """Synthetic places, monthly periods and claimants, as one reference-data file."""
    out = [PREFIXES, f"<{BASE}id/synth-reference> a void:Dataset ; dcterms:title \"kg synthetic reference data\"@en .\n"]
    for k in range(N_PLACES):
        out.append(f"place:synth-region-{k:03d} a kg:Region ; rdfs:label \"Synthetic region {k}\"@en .\n")
    for name, start, end in MONTHS:
        out.append(
            f"period:{name} a kg:Period ; rdfs:label \"{start:%B %Y}\"@en ;\n"
            f"    time:hasBeginning [ a time:Instant ; time:inXSDDate \"{start}\"^^xsd:date ] ;\n"
            f"    time:hasEnd [ a time:Instant ; time:inXSDDate \"{end}\"^^xsd:date ] ;\n"
            f"    kg:lengthInDays {(end - start).days + 1} .\n")
    for k in range(N_CLAIMANTS):
        out.append(f"actor:synth-claimant-{k:03d} a {KINDS[k % len(KINDS)]} ; rdfs:label \"Synthetic claimant {k}\"@en .\n")
    for k in range(8):
        out.append(f"actor:synth-publisher-{k} a kg:NewsOrganisation ; rdfs:label \"Synthetic publisher {k}\"@en .\n")
    return "".join(out)


@dataclass
class _Source:
    """A source being written: its text grows sentence by sentence, each claim quoting one."""

    sid: str
    text: str = ""

    def say(self, sentence: str) -> tuple[str, int, int]:
        if self.text:
            self.text += " "
        start = len(self.text)
        self.text += sentence
        return sentence, start, start + len(sentence)


def _evidence(sid: str, quote: tuple[str, int, int], *, shift: int = 0) -> str:
    exact, start, end = quote
    return (f"    kg:evidence [ a oa:SpecificResource ; oa:hasSource source:{sid} ;\n"
            f"        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact {_lit(exact)} ] ,\n"
            f"            [ a oa:TextPositionSelector ; oa:start {start} ; oa:end {end + shift} ] ] ;\n")


def _claim(sid: str, slug: str, cls: str, label: str, kind: str, claimant: str | None, standing: str, quote, chain,
           body: str, *, shift: int = 0, direct: bool = False, origin: str | None = None) -> str:
    lines = [f"<{BASE}id/claim/{sid}/{slug}> a {cls} ;\n", f"    rdfs:label {_lit(label)}@en ;\n",
             f"    kg:claimKind kind:{kind} ;\n"]
    if claimant:
        lines.append(f"    kg:claimant {claimant} ;\n")
    lines.append(f"    kg:claimantStanding standing:{standing} ;\n    kg:statedIn source:{sid} ;\n"
                 f"    kg:isDirectQuotation {'true' if direct else 'false'} ;\n")
    previous = claimant or origin
    for order, (agent, role, phrase) in enumerate(chain, 1):
        lines.append(f"    kg:reportedVia [ a kg:RelayStep ; kg:stepOrder {order} ; prov:agent {agent} ; "
                     f"prov:hadRole role:{role} ; kg:relayedFrom {previous} ; kg:relayPhrase {_lit(phrase)} ] ;\n")
        previous = agent
    lines.append(body)
    lines.append(_evidence(sid, quote, shift=shift))
    return "".join(lines).rstrip(" ;\n") + " .\n\n"


def _figure(measure: str, value, unit: str, period: str, place: str, about: str, phrase: str, *, qualifier: str = "exact",
            parts: list[str] | None = None) -> str:
    text = (f"    kg:measure measure:{measure} ; kg:value {value} ; kg:unit unit:{unit} ; kg:valueQualifier qualifier:{qualifier} ;\n"
            f"    kg:valuePhrase {_lit(phrase)} ; kg:period period:{period} ; kg:place {place} ; kg:about {about} ;\n")
    for part in parts or []:
        text += f"    kg:hasPartFigure {part} ;\n"
    return text


def synthesize(*, sources: int, seed: int, out: str | Path, invalid_share: float = 0.0,
               conflict_share: float = 0.05) -> dict:
    """Write a synthetic corpus; return a summary (files, triples estimate, planted problems).

    >>> import tempfile
    >>> summary = synthesize(sources=3, seed=1, out=tempfile.mkdtemp())
    >>> summary["sources"], summary["invalid"]
    (3, 0)
    """
    rng = random.Random(seed)
    out = Path(out)
    (out / "facts").mkdir(parents=True, exist_ok=True)
    (out / "texts").mkdir(parents=True, exist_ok=True)
    write_text(out / "facts" / "synth-reference.ttl", reference_ttl())
    reported: list[tuple[str, str, int]] = []  # (period, place, value) of earlier attack figures
    expected: dict[str, list[list[str]]] = {}
    conflicts = 0
    for index in range(sources):
        sid = f"synth-{seed}-{index:06d}"
        source = _Source(sid)
        publisher = f"actor:synth-publisher-{index % 8}"
        claimant_no = rng.randrange(N_CLAIMANTS)
        claimant = f"actor:synth-claimant-{claimant_no:03d}"
        claimant_name = f"Synthetic claimant {claimant_no}"
        relay_no = (index + 3) % 8
        relay = f"actor:synth-publisher-{relay_no}"
        chain = [(relay, "relayer", f"according to Synthetic publisher {relay_no}"),
                 (publisher, "publisher", "the report said")]
        if reported and rng.random() < conflict_share:
            period_name, place_no, base = reported[rng.randrange(len(reported))]
            attacks = base + rng.randint(1, 40)
            conflicts += 1
        else:
            period_name, place_no, attacks = rng.choice(MONTHS)[0], rng.randrange(N_PLACES), rng.randint(5, 400)
        reported.append((period_name, place_no, attacks))
        period_label = next(f"{s:%B %Y}" for n, s, _ in MONTHS if n == period_name)
        place = f"place:synth-region-{place_no:03d}"
        place_a, place_b = f"place:synth-region-{(place_no + 1) % N_PLACES:03d}", f"place:synth-region-{(place_no + 2) % N_PLACES:03d}"
        ops_a, ops_b = rng.randint(1, 150), rng.randint(1, 150)
        share = rng.randint(1, 99)
        planted = None
        if rng.random() < invalid_share:
            planted = VIOLATIONS[rng.randrange(len(VIOLATIONS))]
        claims = []
        q_attacks = source.say(f"{claimant_name} said that ISIS claimed responsibility for {attacks} attacks in "
                               f"Synthetic region {place_no} in {period_label}.")
        value = -attacks if planted and planted[0] == "negative-value" else attacks
        claims.append(_claim(sid, "attacks", "kg:QuantityClaim", f"ISIS claimed {attacks} attacks in region {place_no}, {period_label}",
                             "reported-figure", None if planted and planted[0] == "no-claimant" else claimant, "adversary",
                             q_attacks, chain, _figure("attacks-claimed", value, "NUM", period_name, place, "actor:isis", str(attacks)),
                             shift=3 if planted and planted[0] == "offsets-off" else 0, origin=claimant))
        total = ops_a + ops_b + (7 if planted and planted[0] == "total-not-sum" else 0)
        q_ops = source.say(f"Its forces conducted {total} operations: {ops_a} in Synthetic region {(place_no + 1) % N_PLACES} "
                           f"and {ops_b} in Synthetic region {(place_no + 2) % N_PLACES}.")
        parts = [f"<{BASE}id/claim/{sid}/operations-a>", f"<{BASE}id/claim/{sid}/operations-b>"]
        claims.append(_claim(sid, "operations-total", "kg:QuantityClaim", f"{total} operations in {period_label}", "reported-figure",
                             claimant, "participant", q_ops, chain,
                             _figure("operations-conducted", total, "NUM", period_name, place, claimant, str(total), parts=parts)))
        claims.append(_claim(sid, "operations-a", "kg:QuantityClaim", f"{ops_a} operations in region {(place_no + 1) % N_PLACES}",
                             "reported-figure", claimant, "participant", q_ops, chain,
                             _figure("operations-conducted", ops_a, "NUM", period_name, place_a, claimant, str(ops_a))))
        claims.append(_claim(sid, "operations-b", "kg:QuantityClaim", f"{ops_b} operations in region {(place_no + 2) % N_PLACES}",
                             "reported-figure", claimant, "participant", q_ops, chain,
                             _figure("operations-conducted", ops_b, "NUM", period_name, place_b, claimant, str(ops_b))))
        shown = 100 + share if planted and planted[0] == "percent-above-100" else share
        q_share = source.say(f"At its peak the group controlled around {share} percent of Synthetic region {place_no}.")
        claims.append(_claim(sid, "territory", "kg:QuantityClaim", f"around {share} percent of region {place_no} controlled",
                             "reported-figure", claimant, "adversary", q_share, chain,
                             _figure("territory-controlled-share", shown, "PERCENT", period_name, place, "actor:isis",
                                     f"around {share} percent", qualifier="approximate")))
        stance = rng.choice(("support", "oppose"))
        verb = "keeping" if stance == "support" else "reducing"
        q_stance = source.say(f"{claimant_name} advocates {verb} the coalition's presence in Synthetic region {place_no}.")
        claims.append(_claim(sid, "stance", "kg:StanceClaim", f"{claimant_name} advocates {verb} the coalition's presence",
                             "stance", claimant, "participant", q_stance, chain[1:],
                             f"    kg:topic topic:us-led-coalition-presence ; kg:stance stance:{stance} ; kg:place {place} ;\n"
                             f"    kg:about actor:us-led-coalition ;\n"))
        q_assessment = source.say(f"\"The group is attempting to reconstitute,\" {claimant_name} said.")
        claims.append(_claim(sid, "assessment", "kg:StatementClaim", "The group is attempting to reconstitute", "assessment",
                             claimant, "adversary", q_assessment, [chain[1]],
                             "    kg:topic topic:isis-resurgence ; kg:about actor:isis ;\n", direct=True))
        text = source.text + "\n"
        head = (f"source:{sid} a kg:NewsArticle ;\n    rdfs:label {_lit(f'Synthetic report {index}')}@en ;\n"
                f"    dcterms:publisher {publisher} ;\n    dcterms:language \"en\"^^xsd:language ;\n"
                f"    kg:sha256 \"{hashlib.sha256(text.encode()).hexdigest()}\"^^xsd:hexBinary ;\n"
                f"    kg:characterCount {len(text)} ;\n    kg:textFile {_lit(sid + '.txt')} .\n\n")
        write_text(out / "texts" / f"{sid}.txt", text)
        write_text(out / "facts" / f"{sid}.ttl", PREFIXES + "\n" + head + "".join(claims))
        if planted:
            focus = {"total-not-sum": "operations-total", "percent-above-100": "territory"}.get(planted[0], "attacks")
            expected[f"{sid}.ttl"] = [[f"{BASE}id/claim/{sid}/{focus}", planted[1]]]
    write_text(out / "expected-violations.json", json.dumps(expected, indent=1, sort_keys=True))
    return {"sources": sources, "seed": seed, "conflicts": conflicts, "invalid": len(expected), "out": str(out)}
