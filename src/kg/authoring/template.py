"""Writing a new source's facts file: its metadata and one commented example of each kind of claim.

The template parses as Turtle as it is (the examples are comments), describes the source
with everything the shapes ask of it, and explains every line of each example, so an analyst
can copy an example, uncomment it and fill it in.
"""

from __future__ import annotations

import hashlib
import re

from rdflib import Literal

from kg.model.errors import BadInputError
from kg.model.namespaces import BASE, SLUG, turtle_prefixes



def slug(text: str) -> str:
    """A lower-case, hyphenated identifier for IRIs.

    >>> slug("The Example Monitor (TEM)")
    'the-example-monitor-tem'
    """
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def new_source_template(
    *,
    source_id: str,
    title: str,
    publisher: str,
    url: str | None = None,
    text: str | None = None,
    text_file: str | None = None,
    language: str = "en",
) -> str:
    """The Turtle of a new source's facts file.

    Args:
        source_id: The source's identifier: lower-case words joined by hyphens; it names
            the file (``facts/ID.ttl``), the source IRI and the claims' namespace.
        title: The document's title.
        publisher: An existing actor IRI or prefixed name (``actor:newsweek``), or the
            publisher's name, for which a new actor is written into the file.
        url: Where the document was published, if known.
        text: The source text; if given, its SHA-256 and length are recorded.
        text_file: The text's file name, recorded so tools can find it.
        language: The document's language (BCP 47).

    >>> ttl = new_source_template(source_id="example-2024", title="An example", publisher="actor:newsweek", text="Hi.")
    >>> "kg:characterCount 3 ;" in ttl and "source:example-2024" in ttl
    True
    """
    if not SLUG.fullmatch(source_id):
        raise BadInputError(f"--id must be lower-case words joined by hyphens (e.g. newsweek-isis-attacks-2024), not {source_id!r}.")
    if publisher.startswith("actor:") and SLUG.fullmatch(publisher[6:]):
        publisher_ref, new_actor = publisher, ""
    elif publisher.startswith(BASE + "id/actor/"):
        publisher_ref, new_actor = f"<{publisher}>", ""
    else:
        name = slug(publisher)
        if not name:
            raise BadInputError(f"--publisher needs a name or an actor IRI, not {publisher!r}.")
        publisher_ref = f"actor:{name}"
        new_actor = f"""
# The publisher is new to the store: describe it here (it stays with this source).
# Its kind is one of kg:NewsOrganisation, kg:ThinkTank, kg:GoverningAuthority, ... (see ontology/kg.ttl).
{publisher_ref}
    a kg:NewsOrganisation ;
    rdfs:label {Literal(publisher, lang="en").n3()} ;
.
"""
    if text is not None:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        integrity = f"""    # The text's SHA-256 and length in characters: quotes and offsets refer to exactly this text.
    kg:sha256 "{digest}"^^xsd:hexBinary ;
    kg:characterCount {len(text)} ;"""
    else:
        integrity = """    # TODO: the text's SHA-256 and length (run `kg new-source` with --source-text to fill them in);
    # until then the file does not validate, on purpose.
    kg:sha256 "TODO"^^xsd:hexBinary ;
    kg:characterCount 0 ;"""
    lines_url = f"    rdfs:seeAlso <{url}> ;\n" if url else ""
    lines_file = f"    kg:textFile {Literal(text_file).n3()} ;\n" if text_file else ""
    claim_ns = f"{BASE}id/claim/{source_id}/"
    return f"""# Facts of the source {source_id!r}: its record, then one claim per statement it makes or relays.
# Write each claim from the examples at the end of this file; check with
#   kg verify-quotes --source-text TEXT facts/{source_id}.ttl   (quotes and offsets)
#   kg coverage --source-text TEXT facts/{source_id}.ttl        (what is still to encode)
#   kg add facts/{source_id}.ttl --dry-run                       (validation against the store)
{turtle_prefixes(claim=claim_ns)}
# The source document. Its IRI is also the named graph this file is loaded into.
source:{source_id}
    a kg:NewsArticle ;
    rdfs:label {Literal(title, lang=language).n3()} ;
    dcterms:title {Literal(title, lang=language).n3()} ;
    dcterms:publisher {publisher_ref} ;
    dcterms:language "{language}"^^xsd:language ;
{integrity}
{lines_url}{lines_file}    # When it was published, and how that is known: date-basis:stated-in-text (a dateline),
    # date-basis:publisher-metadata (the page or feed), or date-basis:unknown (then no dcterms:issued:
    # its "on Wednesday" stays unresolved; never invent a date).
    # dcterms:issued "2024-07-17"^^xsd:date ;
    kg:issuedDateBasis date-basis:unknown ;
    # What the text itself says of its date, in words.
    kg:dateNote "TODO: what the text says about when it was written or when its statements were made."@{language} ;
.
{new_actor}
# ----------------------------------------------------------------------------------------
# Examples, one per kind of claim. Copy one, remove the leading '# ', and fill it in.
# Every claim: one claimant (who said it first), one kind, the source, the exact words.
# ----------------------------------------------------------------------------------------

# A FIGURE (kg:QuantityClaim): "CENTCOM said ISIS claimed 153 attacks in Iraq and Syria in H1 2024".
# claim:attacks-2024-h1                                # IRI: claim:<what-it-counts>-<period>, words joined by hyphens
#     a kg:QuantityClaim ;
#     rdfs:label "ISIS claimed 153 attacks in Iraq and Syria, H1 2024"@en ;   # one line saying what is claimed
#     kg:claimKind kind:reported-figure ;              # the speech act
#     kg:claimant actor:centcom ;                       # who made the claim originally (not who relayed it)
#     kg:claimantStanding standing:adversary ;          # participant | adversary | non-party to what it reports
#     kg:statedIn source:{source_id} ;
#     kg:isDirectQuotation false ;                      # true only for words in quotation marks
#     kg:reportedVia [                                  # one step per relayer, in order, from the claimant on
#         a kg:RelayStep ; kg:stepOrder 1 ;
#         prov:agent actor:associated-press ; prov:hadRole role:relayer ;
#         kg:relayedFrom actor:centcom ; kg:relayPhrase "according to the AP"
#     ] ;
#     kg:measure measure:attacks-claimed ;              # what is counted (see facts/reference.ttl)
#     kg:about actor:isis ;                             # whom the figure is about
#     kg:value 153 ;                                    # xsd:integer or xsd:decimal, never negative
#     kg:unit unit:NUM ;                                # unit:NUM for counts, unit:PERCENT, unit:MI, unit:KiloM ...
#     kg:valueQualifier qualifier:exact ;               # exact | lower-bound ("over") | upper-bound | approximate ("around")
#     kg:valuePhrase "153" ;                            # the source's own words for the figure
#     kg:period period:2024-h1 ;                        # a period of the reference data, or one defined here
#     kg:place place:iraq-and-syria ;                   # exactly one place (an area for several)
#     kg:evidence [                                     # the exact words, with their offsets in the text
#         a oa:SpecificResource ; oa:hasSource source:{source_id} ;
#         oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "ISIS claimed responsibility for 153 attacks" ] ,
#             [ a oa:TextPositionSelector ; oa:start 0 ; oa:end 43 ]   # 0-based; end exclusive; end - start = length
#     ] ;
# .

# A POSITION (kg:StanceClaim): "CENTCOM advocates keeping the coalition's presence".
# claim:centcom-keep-coalition-presence
#     a kg:StanceClaim ;
#     rdfs:label "CENTCOM advocates keeping the coalition's presence"@en ;
#     kg:claimKind kind:stance ;
#     kg:claimant actor:centcom ; kg:claimantStanding standing:participant ;
#     kg:statedIn source:{source_id} ; kg:isDirectQuotation false ;
#     kg:topic topic:us-led-coalition-presence ;        # the question the position is on
#     kg:stance stance:support ;                        # support (keep, continue) | oppose (reduce, end)
#     kg:place place:iraq ;
#     kg:about actor:us-led-coalition ;
#     kg:evidence [ a oa:SpecificResource ; oa:hasSource source:{source_id} ;
#         oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "..." ] , [ a oa:TextPositionSelector ; oa:start 0 ; oa:end 3 ] ] ;
# .

# AN ASSESSMENT, WARNING OR STATEMENT OF INTENT IN WORDS (kg:StatementClaim).
# claim:increase-indicates-reconstitution
#     a kg:StatementClaim ;
#     rdfs:label "The increase in attacks indicates ISIS is attempting to reconstitute"@en ;
#     kg:claimKind kind:assessment ;                    # assessment | warning | statement-of-intent | statement-of-fact
#     kg:claimant actor:centcom ; kg:claimantStanding standing:adversary ;
#     kg:statedIn source:{source_id} ; kg:isDirectQuotation true ;
#     kg:topic topic:isis-resurgence ; kg:about actor:isis ;
#     kg:evidence [ a oa:SpecificResource ; oa:hasSource source:{source_id} ;
#         oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "..." ] , [ a oa:TextPositionSelector ; oa:start 0 ; oa:end 3 ] ] ;
# .

# AN EVENT OR ANNOUNCEMENT (kg:EventClaim): "the AANES announced a general amnesty".
# claim:amnesty-announced
#     a kg:EventClaim ;
#     rdfs:label "The AANES announced a general amnesty"@en ;
#     kg:claimKind kind:announcement ;                  # announcement | statement-of-fact | photo-caption | request-for-comment
#     kg:claimant actor:aanes ; kg:claimantStanding standing:participant ;
#     kg:statedIn source:{source_id} ; kg:isDirectQuotation false ;
#     kg:aboutEvent event:aanes-general-amnesty ;       # an event of the reference data, or one defined here
#     kg:about actor:aanes ;
#     kg:evidence [ a oa:SpecificResource ; oa:hasSource source:{source_id} ;
#         oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "..." ] , [ a oa:TextPositionSelector ; oa:start 0 ; oa:end 3 ] ] ;
# .

# ---- Several sources: what outlets relaying one statement do ------------------------------

# THE SAME STATEMENT AS OTHER OUTLETS: point the claim at the shared communication (reference data;
# if it is not there yet, describe it in the reference data, not here), and say how the claimant was
# established: stated in the sentence, carried from the previous sentence, or unattributed (the outlet).
# claim:attacks-2024-h1
#     kg:fromCommunication communication:centcom-isis-statement-2024-h1 ;
#     kg:attributionBasis attribution-basis:stated-in-sentence ;
#     kg:statedDuring period:{source_id}-wednesday ;    # when the claimant said it, as this report says
# .

# A DATE RELATIVE TO THE REPORT ("on Wednesday"): resolved against the report's dcterms:issued, with
# its words, weekday and precision (checked: the date must fall on the weekday). Without a known
# publication date, type it kg:UndatedPeriod with a kg:periodDescription and no dates.
# period:{source_id}-wednesday
#     a kg:Period ; rdfs:label "the Wednesday of this report (17 July 2024)"@en ;
#     kg:datePhrase "on Wednesday" ; kg:weekday "Wednesday" ; kg:datePrecision date-precision:day ;
#     kg:resolvedAgainst source:{source_id} ;
#     time:hasBeginning [ a time:Instant ; time:inXSDDate "2024-07-17"^^xsd:date ] ;
#     time:hasEnd [ a time:Instant ; time:inXSDDate "2024-07-17"^^xsd:date ] ;
#     kg:lengthInDays 1 ;
# .

# "SO FAR THIS YEAR": a period with a known beginning that ends with the communication.
# period:{source_id}-so-far-this-year
#     a kg:OpenEndedPeriod ; rdfs:label "2024 until CENTCOM's statement"@en ;
#     kg:datePhrase "so far this year" ; kg:datePrecision date-precision:day ;
#     time:hasBeginning [ a time:Instant ; time:inXSDDate "2024-01-01"^^xsd:date ] ;
#     kg:endsWithCommunication communication:centcom-isis-statement-2024-h1 ;
# .

# A CLAIMANT THE REPORT DOES NOT NAME ("a U.S. defense official, who spoke on condition of anonymity"):
# its own actor here, with affiliation and the reason given. A group: kg:UnnamedGroup ("nonmilitary experts").
# actor:{source_id}-defense-official
#     a kg:UnnamedPerson ; rdfs:label "a U.S. defense official (unnamed)"@en ;
#     kg:affiliation actor:centcom ; kg:roleTitle "defense official"@en ;
#     kg:anonymityReason "not authorized to speak publicly" ;
# .

# A FIGURE AS AN INTERVAL: "nearly 200" is approximate and at most 200; "more than 10,000" a lower bound.
# claim:attacks-so-far-2024
#     kg:value 200 ; kg:upperBound 200 ; kg:valueQualifier qualifier:approximate ; kg:valuePhrase "nearly 200" ;
# .

# A PROJECTION OR COMPARISON ("on track to double", "might double", "more than double": lower bound 2).
# claim:attacks-on-track-to-double
#     a kg:ComparisonClaim ; kg:claimKind kind:projection ;
#     kg:measure measure:attacks-claimed ; kg:period period:2024 ; kg:comparedPeriod period:2023 ;
#     kg:ratio 2 ; kg:valuePhrase "double" ; kg:isProjection true ; kg:hedge "on track to" ;
# .

# A FIGURE THE OUTLET DERIVED ("about 70% of the missions were in Iraq", from 137 of 196), A SUBSET
# ("eight senior leaders" among 44 killed: not a part that sums), A QUANTITY RELATIVE TO A REFERENCE.
# claim:missions-share-iraq kg:claimKind kind:derived-figure ;
#     kg:derivedFrom claim:operations-iraq-2024-h1 , claim:missions-2024-h1 .
# claim:senior-leaders-killed kg:subsetOf claim:killed-2024-h1 .
# claim:area-held kg:value 0.5 ; kg:valuePhrase "half" ; kg:relativeTo "the size of the United Kingdom" .

# A PARAPHRASE WITH A FEW WORDS IN QUOTATION MARKS, and A HEADLINE (its own kind of statement).
# claim:attempting-to-reconstitute kg:isDirectQuotation false ; kg:quotedWords "reconstitute" .
# claim:headline kg:claimKind kind:headline ; kg:attributionBasis attribution-basis:unattributed .

# A PASSAGE LEFT OUT ON PURPOSE (boilerplate, a duplicate): list it on the source, with why.
# source:{source_id} kg:excludes [
#     a kg:ExcludedPassage ; oa:hasSource source:{source_id} ;
#     oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "..." ] , [ a oa:TextPositionSelector ; oa:start 0 ; oa:end 3 ] ;
#     kg:exclusionReason "A copyright disclaimer; it states nothing about the world."@en
# ] .
"""
