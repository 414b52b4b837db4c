"""The ``kg`` command: a thin layer over the library.

Exit codes: 0 success, 1 validation violations, 2 bad input or usage.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from typing import TYPE_CHECKING

import click

from kg.cli.options import store_options
from kg.model.errors import ChecksFailed, KgError, ValidationFailed

if TYPE_CHECKING:
    from rich.console import Console

    from kg.queries.catalogue import StoredQuery

# Library modules are imported in the commands that use them, not here: `kg --help` and a stored
# query then start without loading rdflib, pySHACL or rich (tests/test_cli.py checks what --help imports).

#: The choices of `kg query --format` and `kg export --format`, written out so that the options are built
#: without importing the library (kg.queries.formats.ResultFormat and kg.stores.base.EXPORT_FORMATS; a test keeps them equal).
RESULT_FORMATS = ("table", "csv", "tsv", "json")
EXPORT_FORMAT_NAMES = ("turtle", "trig", "nquads", "ntriples", "jsonld")
#: A query file larger than this is not a hand-written question.
MAX_QUERY_BYTES = 1024 * 1024
#: Tables wider than this many columns are printed one record per block.
MAX_TABLE_COLUMNS = 6
#: The rows a table shows at once unless --limit says otherwise (csv, tsv and json give every row).
TABLE_PAGE = 1000


def _console(err: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=err, soft_wrap=False, width=None if sys.stdout.isatty() else 120)


class KgGroup(click.Group):
    """The ``kg`` group: every error a command raises becomes one paragraph and an exit code, here only.

    0 ok, 1 violations, 2 bad input or usage; never a traceback (``KG_DEBUG=1`` shows it for a bug).
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ChecksFailed as error:  # the command has printed its report
            ctx.exit(error.exit_code)
        except ValidationFailed as error:
            # The problems, then the verdict once (its counts and that nothing was loaded).
            blocks = [problem.to_text() for problem in error.report.problems]
            click.echo("\n\n".join([*blocks, str(error)]), err=True)
            ctx.exit(error.exit_code)
        except KgError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(error.exit_code)
        except BrokenPipeError:
            # The reader went away (`kg query … | head`): stop quietly, as other Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except MemoryError:
            click.echo("Error: kg ran out of memory. The input is larger than this machine can hold at once; "
                       "split it, or raise the memory available.", err=True)
            ctx.exit(2)
        except OSError as error:
            where = f" ({str(error.filename)[:120]})" if error.filename else ""
            click.echo(f"Error: {error.strerror or error}{where}.", err=True)
            ctx.exit(2)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:  # a bug: still one paragraph, with a way to see more
            if os.environ.get("KG_DEBUG"):
                raise
            click.echo(f"Error: kg hit an unexpected {type(error).__name__}: {str(error)[:300]}. This is a bug in kg; "
                       "run the command again with KG_DEBUG=1 for the traceback, and report it.", err=True)
            ctx.exit(70)


@click.group(cls=KgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kg")
def main():
    """kg: a fact store for statements made in news reports about armed conflict.

    Every claim keeps who made it, through whom it reached the report, where, when and
    in which exact words. Build the store, check it, and ask it comparison questions:

    \b
        kg load                      # ontology + facts/ into .kg/store, validated first
        kg queries                   # the stored questions
        kg query compare-periods     # ISIS attacks, H1 2024 vs 2023, with citations
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@store_options
@click.option("--no-validate", is_flag=True, help="Load without validating (for data validated already).")
def load(paths, target, no_validate):
    """Validate facts files, then load each into its own named graph.

    With no PATHS, loads ontology/kg.ttl and every file in facts/ of the project the current
    folder lies in (found walking up, as the store is), else the copies that come with kg —
    the same facts/ that `kg new-source` writes into. A file's graph is the IRI
    of the source it describes, so loading a file again replaces it. Nothing is written
    if any file is invalid.

    Loading again costs what changed: a file the store holds unchanged (same SHA-256)
    is not read; changed and new sources are checked against what they touch in the
    store, as `kg add` checks, and a replaced source's earlier version is kept (kg
    history). A changed ontology or reference file, or new shapes, validate everything.

    \b
    Example:
        kg load
        kg load facts/my-new-source.ttl --store /data/kg
        kg load --endpoint http://127.0.0.1:7878/query

    With --endpoint, each file is PUT into its graph with the SPARQL 1.1 Graph Store
    Protocol (or, where the server has none, replaced with one SPARQL Update); the same
    validation runs first, so nothing invalid is sent. Credentials come from
    $KG_ENDPOINT_USER / $KG_ENDPOINT_PASSWORD or ~/.netrc. A load that fails midway
    names the graphs loaded and not loaded; running it again completes it.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from kg.services.load import load as load_files, planned_steps

    paths = list(paths) or None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with target.open(must_exist=False) as store, Progress(*columns, console=_console(err=True), transient=True) as bar:
        task = bar.add_task("loading", total=planned_steps(paths, check=not no_validate))

        def step(description: str) -> None:
            bar.update(task, description=description, advance=1)

        report = load_files(store, paths, check=not no_validate, progress=step)
        from kg.model.resources import facts_dir
        from kg.services.lifecycle import orphaned_sources

        folders = {Path(p) for p in (paths or [facts_dir()]) if Path(p).is_dir()}
        orphans = {graph: file for folder in folders for graph, file in orphaned_sources(store, folder).items()}
    for graph, count in report.graphs.items():
        verb = "replaced" if graph in report.replaced else "loaded"
        click.echo(f"{verb} {count:>6} triples into <{graph}> from {report.files[graph]}"
                   + (" (its earlier version kept: kg history)" if graph in report.replaced else ""))
    if report.skipped:
        click.echo(f"unchanged: {len(report.skipped)} file{'s' if len(report.skipped) != 1 else ''} the store holds "
                   "as they are (same SHA-256), not read again")
    for graph, file in sorted(orphans.items()):
        click.echo(f"note: <{graph}> is still in the store, but its file {file} is gone; it was not removed. "
                   f"Remove it with `kg remove {graph.rsplit('/', 1)[-1]}`.", err=True)
    if no_validate:
        verdict = "not validated (--no-validate)"
    elif report.skipped and not report.graphs:
        verdict = "nothing changed since the store last validated"
    elif report.skipped:
        verdict = "the changed files checked against what they touch in the store: " + report.validation.summary().lower()
    else:
        verdict = report.validation.summary().lower()
    click.echo(f"{report.triples} triples written in {len(report.graphs)} graphs; {verdict}")


@main.command(name="validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@store_options(store_help="Validate what this store holds instead of files.", store_envvar=None)
@click.option("--graph", "graphs", multiple=True, metavar="IRI",
              help="With --store or --endpoint: validate this named graph (repeatable), with the ontology, the reference "
                   "data and the sources it points into; problems of its own nodes are reported.")
@click.option("--format", "fmt", type=click.Choice(["text", "turtle", "json"]), default="text", show_default=True,
              help="text for people; turtle (the SHACL report graph) or json for tools.")
def validate_command(paths, target, graphs, fmt):
    """Check facts against the kg shapes and ontology (pySHACL).

    With no PATHS, checks the ontology's reference data and every file in facts/.
    Exit status: 0 conforms, 1 violations, 2 bad input.

    \b
    Example:
        kg validate facts/reference.ttl facts/my-new-source.ttl
        kg validate --format json
        kg validate --endpoint http://127.0.0.1:7878/query
    """
    from kg.model.resources import facts_dir
    from kg.validation.validator import validate

    if paths and target.given:
        raise click.UsageError("Give files to validate, or a store (--store/--endpoint) to validate what it holds, "
                               "not both; to check new files against a store, use `kg add FILES --dry-run`.")
    if graphs and not target.given:
        raise click.UsageError("--graph names a graph in a store: give --store PATH or --endpoint URL with it.")
    if target.given:
        with target.open(read_only=True) as store:
            report = store.validate(graphs or None)
    else:
        report = validate(list(paths) or sorted(facts_dir().glob("*.ttl")))
    output = {"text": report.to_text, "turtle": report.to_turtle, "json": report.to_json}[fmt]()
    click.echo(output)
    if not report.conforms:
        raise ChecksFailed()


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        if "=" not in item:
            raise click.UsageError(f"--param takes KEY=VALUE, not {item!r}.")
        key, value = item.split("=", 1)
        params[key.strip()] = value
    return params


@main.command()
@click.argument("name", required=False)
@click.option("--param", "-p", "param_values", multiple=True, metavar="KEY=VALUE", help="A query parameter (repeatable).")
@click.option("--file", "query_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Run the SPARQL in this file instead of a stored query.")
@click.option("--format", "fmt", type=click.Choice(RESULT_FORMATS), default="table", show_default=True,
              help="table for people; csv, tsv, json: the W3C SPARQL 1.1 results formats.")
@click.option("--show-query", is_flag=True, help="Print the SPARQL that would run, parameters bound, and exit.")
@click.option("--engine", type=click.Choice(["oxigraph", "rdflib"]), default="oxigraph", show_default=True,
              help="oxigraph: the embedded store; rdflib: plain rdflib in memory over the project's files.")
@click.option("--max-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Stop with an error when the answer has more rows than this.")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help=f"Rows per page (0: all). Default: {TABLE_PAGE} for a table, all for csv, tsv and json.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Rows to skip before the page.")
@click.option("--allow-service", "allow_service", multiple=True, metavar="HOST",
              help="Let SERVICE clauses call this host (repeatable); federated queries are off by default.")
@store_options
def query(name, param_values, query_file, fmt, show_query, engine, max_rows, limit, offset, allow_service, target):
    """Run a stored query (see `kg queries`), or a SPARQL file.

    Parameters are bound as RDF terms, never pasted into the query text. IRIs can be
    given in full or as prefixed names (actor:isis, period:2024-h1).

    A query may take --timeout seconds (30 by default) and return --max-rows rows; past
    either, kg stops with a message (exit 2). SERVICE clauses, which make the engine
    send requests to other hosts, are refused unless --allow-service names the host.

    Long answers come in pages: --limit rows after --offset (a table shows the first
    page and says how to get the next; the stored queries order every row, so pages
    do not overlap).

    \b
    Example:
        kg query compare-periods
        kg query compare-places --param place_a=place:iraq --param place_b=place:syria
        kg query reporting-chain -p text="153 attacks" --format json
        kg query positions --show-query
        kg query evidence --limit 20 --offset 40
        kg query compare-places --endpoint http://127.0.0.1:7878/query
    """
    from kg.model.inputs import read_utf8
    from kg.queries.catalogue import StoredQuery, get_query, run_query
    from kg.queries.formats import render

    if (name is None) == (query_file is None):
        raise click.UsageError("Give a stored query's NAME or --file Q.rq (one of them).")
    stored = (StoredQuery.from_text(read_utf8(query_file, limit=MAX_QUERY_BYTES, what="a SPARQL query file"),
                                    name=query_file.stem, path=query_file)
              if query_file else get_query(name))
    params = _parse_params(param_values)
    if limit is None:
        limit = TABLE_PAGE if fmt == "table" else 0
    # One row more than the page, to know whether another page follows.
    limits = {"timeout": target.timeout, "max_rows": max_rows, "allow_service": allow_service,
              "limit": limit + 1 if limit else None, "offset": offset}
    if show_query:
        from kg.queries.sparqltext import page

        click.echo(page(stored.bind(params), limit=limit or None, offset=offset))
        return
    if engine == "rdflib":
        if target.given:
            raise click.UsageError("--engine rdflib runs over the project's files in memory, not a store: give it "
                                   "without --store and --endpoint.")
        from kg.model.resources import default_load_paths
        from kg.queries.engines import RdflibEngine
        from kg.stores.oxigraph import dataset_from_files

        result = run_query(stored, engine=RdflibEngine(dataset_from_files(default_load_paths())), params=params,
                           **limits)
    else:
        from kg.queries.catalogue import unknown_terms

        with target.open(read_only=True) as store:
            engine = store.engine  # once: on a server, finding kg's graphs costs a request or two
            unknown_terms(stored, params, engine)
            result = run_query(stored, engine=engine, params=params, **limits)
    rows, more = result.terms, False
    if limit and len(rows) > limit:
        rows, more = rows[:limit], True
    if fmt != "table":
        click.echo(render(fmt, result.variables, rows), nl=False)
    else:
        _print_table(stored, result.variables, rows)
    if more:  # on stderr, so that a page written as csv, tsv or json stays valid
        click.echo(f"Rows {offset + 1}–{offset + limit} shown; more follow: add --offset {offset + limit} for the "
                   "next page, or --limit 0 for all.", err=True)


def _print_table(stored: StoredQuery, variables, rows) -> None:
    from kg.queries.formats import display, to_table

    console = _console()
    if not rows:
        console.print(f"[bold]{stored.summary or stored.name}[/bold]\n(no rows)")
        return
    if len(variables) <= MAX_TABLE_COLUMNS:
        console.print(to_table(variables, rows, title=stored.summary or stored.name))
        return
    from rich.table import Table

    console.print(f"[bold]{stored.summary or stored.name}[/bold] — {len(rows)} row{'s' if len(rows) != 1 else ''}")
    for index, row in enumerate(rows, 1):
        record = Table(show_header=False, title=f"row {index}", title_justify="left", show_lines=False)
        record.add_column("field", style="bold", no_wrap=True)
        record.add_column("value", overflow="fold")
        for var, term in zip(variables, row):
            if term is not None:
                record.add_row(var, display(term))
        console.print(record)


@main.command()
def queries():
    """List the stored queries, their questions and parameters.

    \b
    Example:
        kg queries
    """
    from kg.queries.catalogue import load_catalogue

    for name, stored in load_catalogue().items():
        click.echo(click.style(name, bold=True) + f"\n    {stored.summary}")
        for param in stored.params:
            default = f" (default {param.default})" if param.default else ""
            click.echo(f"    --param {param.name}=<{param.type}>{default}: {param.description.strip()}")
        if stored.requires_one_of:
            click.echo(f"    needs at least one of: {', '.join(stored.requires_one_of)}")


@main.command()
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMAT_NAMES), default="trig", show_default=True,
              help="trig, nquads and jsonld keep the named graphs; turtle and ntriples merge them.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True,
              help="File to write, or - for standard output.")
@store_options
def export(fmt, output, target):
    """Write the store's contents in a standard RDF format.

    \b
    Example:
        kg export --format trig --output kg.trig
    """
    from kg.model.atomicfile import atomic_output

    with target.open(read_only=True) as store:
        if output == "-":
            store.export(fmt, output=sys.stdout.buffer)
            return
        # Streamed into an anonymous file that replaces the target only once complete.
        with atomic_output(output) as handle:
            store.export(fmt, output=handle)
            written = handle.tell()
    click.echo(f"wrote {written} bytes to {output}", err=True)


@main.command()
@store_options
def stats(target):
    """Claims by kind, claimant and source, and per graph its title, triples, file, content hash,
    when it was added and changed, its versions and retracted claims.

    \b
    Example:
        kg stats
        kg stats --endpoint http://127.0.0.1:7878/query
    """
    from kg.model.namespaces import RETRACTIONS_GRAPH
    from kg.queries.catalogue import run_query
    from rich.table import Table

    from kg.services.lifecycle import earlier_versions_per_graph, retracted_per_graph

    with target.open(read_only=True) as store:
        graph_counts = store.graphs()
        manifest = store.manifest()
        titles = {str(g): str(t) for g, t in store.select(
            "SELECT ?g ?title WHERE { GRAPH ?g { ?g <http://www.w3.org/2000/01/rdf-schema#label> ?title } }").rows}
        titles[str(RETRACTIONS_GRAPH)] = "retractions (kg retract; kg query retracted lists them)"
        earlier, retracted = earlier_versions_per_graph(store), retracted_per_graph(store)
        result = run_query("overview", store=store)
    console = _console()

    # One block per graph (title, file, hash and times do not fit one line each in a table).
    console.print(f"[bold]Graphs[/bold] — {len(graph_counts)}, with the file each was loaded from (times UTC)")
    for graph, count in graph_counts.items():
        record = manifest.get(graph, {})
        block = Table(show_header=False, title=graph, title_justify="left", show_lines=False)
        block.add_column("field", style="bold", no_wrap=True)
        block.add_column("value", overflow="fold")
        for field, value in (("title", titles.get(graph, "")), ("triples", str(count)), ("file", record.get("file", "")),
                             ("sha256", record.get("sha256", "")), ("added", record.get("added", "")),
                             ("changed", record.get("changed", "")),
                             ("versions", f"{earlier[graph] + 1} (kg history)" if graph in earlier else ""),
                             ("retracted", f"{retracted[graph]} (kg query retracted)" if graph in retracted else "")):
            if value:
                block.add_row(field, value)
        console.print(block)
    overview = Table(title="Claims")
    for column in ("dimension", "key", "count"):
        overview.add_column(column, justify="right" if column == "count" else "left")
    for row in result.rows:
        overview.add_row(row["dimension"], row["key"], str(row["count"]))
    console.print(overview)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_options
@click.option("--dry-run", is_flag=True, help="Check only; write nothing.")
@click.option("--replace", is_flag=True,
              help="Let a file replace a source already in the store (a corrected version of it).")
@click.option("--reason", default=None, metavar="TEXT",
              help="Why the source is replaced (required with --replace; kept in its history).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for tools.")
def add(files, target, dry_run, replace, reason, fmt):
    """Check new facts files against the store, then add them: nothing invalid gets in.

    Each file is parsed (a syntax error is shown as file:line:column with a caret), then
    validated with the ontology and with only what it references in the store: the
    actors, places, periods, measures and sources it names, and the figures its figures
    could conflict with. A figure that disagrees with another claimant's is a warning; a
    claimant contradicting itself is a warning naming both claims; a reference to
    something that exists nowhere is a violation. With no violation the file is written as
    its source's graph in one transaction; with any, nothing is written (exit 1).

    kg add never replaces the ontology or the reference data, and replaces a source
    already in the store only with --replace and a --reason (then the claims of other
    sources that point into it are checked again against the new version). The version
    replaced is kept in the store's history: `kg history SOURCE` lists and compares them;
    answers come from the current version.

    \b
    Example:
        kg add facts/my-new-source.ttl --dry-run
        kg add facts/my-new-source.ttl
        kg add --replace facts/my-new-source.ttl --reason "The outlet corrected the July figure"
    """
    from kg.services.add import add_files

    with target.open() as store:
        try:
            report = add_files(store, files, dry_run=dry_run, replace=replace, reason=reason)
        except ValidationFailed as failure:
            if fmt == "json":
                click.echo(failure.report.to_json())
                raise ChecksFailed() from None
            raise
    if fmt == "json":
        click.echo(report.validation.to_json())
        return
    if report.validation.problems:
        click.echo(report.validation.to_text())
        click.echo()
    for graph, path in report.files.items():
        if graph in report.replaced:
            verb = "would replace" if dry_run else "replaced"
            click.echo(f"{verb} <{graph}> with {path} (the version replaced is kept: kg history {graph.rsplit('/', 1)[-1]})")
        else:
            click.echo(f"{'would add' if dry_run else 'added'} {path} as <{graph}>")
    click.echo(f"{report.validation.summary()}; {report.triples_read} triples read from the store to check it.")


@main.command()
@store_options
def summary(target):
    """The headline answers in a few lines, each with its claimant and source: figures against
    earlier periods (annualised), totals against their parts, shares of places, disagreements.

    Each line comes from a stored query (named at its end); `kg query NAME` gives the rows
    with their quotes.

    \b
    Example:
        kg summary
    """
    from kg.queries.catalogue import run_query

    with target.open(read_only=True) as store:
        periods = run_query("compare-periods", store=store).rows
        totals = run_query("totals-vs-parts", store=store).rows
        places = run_query("compare-places", store=store).rows
        differences = run_query("disagreements", store=store).rows
    lines = []
    for row in periods:
        lines.append(f"{row['measure_label']}: {row['value_a']} in {row['period_a_label']} vs {row['value_b']} in "
                     f"{row['period_b_label']} (ratio {row['ratio']}; annualised {row['annualised_a']} vs "
                     f"{row['annualised_b']} = {row['annualised_ratio']}) — {row['claimant_a']}, in "
                     f"{row['source_a_title']}  [compare-periods]")
    seen = {}
    for row in totals:
        seen.setdefault(str(row["total_claim"]), (row, []))[1].append(f"{row['part_value']} ({row['part_place_label']})")
    for row, parts in seen.values():
        lines.append(f"{row['measure_label']}, {row['period_label']}: {row['total']} = {' + '.join(parts)}, "
                     f"{row['verdict']} — {row['claimant']}  [totals-vs-parts]")
    for row in places:
        lines.append(f"{row['measure_label']}: {row['place_a_label']} {row['share_a_percent']} %, {row['place_b_label']} "
                     f"{row['share_b_percent']} % of {row['total']} — {row['claimant_a']}  [compare-places]")
    kinds: dict[str, int] = {}
    for row in differences:
        kinds[str(row["difference"])] = kinds.get(str(row["difference"]), 0) + 1
    lines.append("where sources disagree: " + (", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in
                                                       sorted(kinds.items())) or "nowhere") + "  [disagreements]")
    click.echo("\n".join(lines))


@main.command()
@click.argument("kind", required=False)
@store_options
def terms(kind, target):
    """List the terms users pass as parameters, with their labels: actors, measures, periods,
    places, sources, communications… (KIND narrows the list to one kind).

    \b
    Example:
        kg terms measure
        kg query compare-periods -p measure=measure:operatives-killed
    """
    from kg.model.namespaces import DATA_PREFIXES

    kinds = [kind] if kind else [k for k in ("actor", "measure", "period", "place", "source", "communication", "event",
                                             "topic")]
    unknown = [k for k in kinds if k not in DATA_PREFIXES]
    if unknown:
        raise click.BadParameter(f"{unknown[0]!r} is not a kind of term; use one of {', '.join(DATA_PREFIXES)}.",
                                 param_hint="KIND")
    with target.open(read_only=True) as store:
        for name in kinds:
            namespace = DATA_PREFIXES[name]
            rows = store.select(f"""SELECT ?t (SAMPLE(STR(?l)) AS ?label) WHERE {{ ?t a ?type
                FILTER (isIRI(?t) && STRSTARTS(STR(?t), "{namespace}")) OPTIONAL {{ ?t <http://www.w3.org/2000/01/rdf-schema#label> ?l }}
                }} GROUP BY ?t ORDER BY ?t""").rows
            if not rows:
                continue
            click.echo(click.style(name, bold=True))
            for term, label in rows:
                click.echo(f"  {name}:{str(term)[len(namespace):]:<44} {label or ''}")


@main.command()
@click.argument("sources", nargs=-1, required=True)
@store_options
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@click.option("--force", is_flag=True, help="Remove even when other sources' claims point into it (those links then dangle).")
def remove(sources, target, dry_run, force):
    """Remove sources (by id, source:ID, IRI or facts file) and their records, in one transaction.

    Refuses, naming them, while claims of other sources point at what a removed source
    describes (unless --force); a refused removal changes nothing. The ontology and the
    reference data are not sources and are never removed.

    \b
    Example:
        kg remove fictional-monitor-2024 --dry-run
        kg remove fictional-monitor-2024
    """
    from kg.services.lifecycle import remove_sources

    with target.open() as store:
        report = remove_sources(store, list(sources), dry_run=dry_run, force=force)
    verb = "would remove" if dry_run else "removed"
    for graph in report.removed:
        click.echo(f"{verb} <{graph}> ({report.triples[graph]} triples)")
    if report.references:
        click.echo(f"{len(report.references)} link(s) from other sources now point at nothing (--force); "
                   "`kg validate --store` lists them.", err=True)


@main.command()
@click.argument("source")
@store_options
@click.option("--diff", "diff_version", type=int, default=None, metavar="N",
              help="Show what changed from version N to the version after it.")
@click.option("--last", is_flag=True, help="Show what the last replacement changed (the previous version against the current).")
def history(source, target, diff_version, last):
    """List a source's versions (each `kg add --replace` keeps the one it replaces), or show what changed.

    Each version is listed with its number, content hash, the file it came from, when it
    was loaded and replaced, and why. Answers always come from the current version (the
    last). With --diff N (or --last), the triples removed (-) and added (+) from version N
    to the next, blank nodes matched by structure.

    \b
    Example:
        kg history fictional-monitor-2024
        kg history fictional-monitor-2024 --last
    """
    from kg.model.namespaces import shorten
    from kg.services.lifecycle import diff, history as versions_of

    with target.open(read_only=True) as store:
        if diff_version is None and not last:
            versions = versions_of(store, source)
            click.echo(f"{len(versions)} version(s) of {source}, oldest first; answers come from the current one (times UTC)")
            for v in versions:
                state = "current" if v.iri is None else f"replaced {v.replaced}"
                click.echo(f"version {v.number} ({state}): sha256 {(v.sha256 or 'unknown')[:16]}, {v.triples} triples, "
                           f"loaded {v.loaded or 'unknown'}")
                if v.file:
                    click.echo(f"    file: {v.file}")
                if v.reason:
                    click.echo(f"    replaced because: {v.reason}")
            return
        change = diff(store, source, diff_version)
    click.echo(f"version {change.older.number} ({(change.older.sha256 or '')[:16]}) → version {change.newer.number} "
               f"({(change.newer.sha256 or '')[:16]}){'' if change.newer.iri else ', current'}: "
               f"{len(change.removed)} triple(s) removed, {len(change.added)} added"
               + (f"; reason: {change.older.reason}" if change.older.reason else ""))
    for sign, lines in (("-", change.removed), ("+", change.added)):
        for line in lines:
            click.echo(f"{sign} {_short_triple(line, shorten)}")


def _short_triple(line: str, shorten) -> str:
    """An N-Triples line with its IRIs in prefixed form, for reading."""
    import re

    from rdflib import URIRef

    return re.sub(r"<([^<>\s]+)>", lambda m: shorten(URIRef(m.group(1))), line.rstrip(" ."))


@main.command()
@click.argument("targets", nargs=-1, required=True)
@store_options
@click.option("--reason", default=None, metavar="TEXT", help="Why (required to retract; kept with the record).")
@click.option("--date", "on", default=None, metavar="YYYY-MM-DD", help="When the retraction takes effect (default today, UTC).")
@click.option("--undo", is_flag=True, help="Withdraw the retractions instead: the claims count again.")
@click.option("--dry-run", is_flag=True, help="Say what would be recorded; change nothing.")
def retract(targets, target, reason, on, undo, dry_run):
    """Retract claims (SOURCE-ID/slug) or whole sources (their id): they stay in the store, and
    every stored query leaves them out unless given -p include_retracted=yes.

    A retraction records the reason and the date in the store's retractions graph, all
    targets in one transaction. `kg query retracted` lists them; --undo withdraws them.

    \b
    Example:
        kg retract fictional-monitor-2024/attacks-2024-h1 --reason "The outlet withdrew the figure"
        kg query retracted
        kg retract fictional-monitor-2024/attacks-2024-h1 --undo
    """
    from kg.services.lifecycle import retract as record, unretract
    from kg.stores.base import now_utc

    if not undo and not (reason or "").strip():
        raise click.UsageError("A retraction needs a reason: --reason TEXT.")
    with target.open() as store:
        if undo:
            done = unretract(store, list(targets), dry_run=dry_run)
        else:
            done = record(store, list(targets), reason=reason, on=on, now=now_utc(), dry_run=dry_run)
    verb = ("would withdraw" if dry_run else "withdrew") if undo else ("would retract" if dry_run else "retracted")
    for retraction in done:
        click.echo(f"{verb} <{retraction.target}>" + ("" if undo else f" (from {retraction.date}: {retraction.reason})"))


@main.command(name="new-source")
@click.option("--id", "source_id", required=True, help="The source's id: lower-case words joined by hyphens.")
@click.option("--title", required=True, help="The document's title.")
@click.option("--publisher", required=True, help="An actor (actor:newsweek) or the publisher's name.")
@click.option("--url", default=None, help="Where the document was published.")
@click.option("--source-text", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The source text: its SHA-256 and length are recorded.")
@click.option("--language", default="en", show_default=True, help="The document's language (BCP 47).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("facts"), show_default=True,
              help="The folder to write ID.ttl into.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--draft", is_flag=True, help="Add a claim stub, quote and offsets computed, for each sentence of "
              "--source-text that gives a figure or reports someone's words.")
def new_source(source_id, title, publisher, url, source_text, language, out_dir, force, draft):
    """Write facts/ID.ttl for a new source: its record and one commented example per kind of claim.

    With --draft, also one claim stub per sentence of the text that carries a number or a
    reporting verb ("said", "according to", "announced"), its quote, offsets, prefix and
    suffix already computed, for you to complete or delete. Until every stub is completed
    (or deleted) the file does not validate.

    \b
    Example:
        kg new-source --id monitor-2024-07 --title "Attacks in July" \\
            --publisher "Example Monitor" --source-text monitor-2024-07.txt --draft
    """
    from kg.authoring.quotes import read_text
    from kg.authoring.template import new_source_template
    from kg.model.atomicfile import write_text
    from kg.model.namespaces import SLUG

    if not SLUG.fullmatch(source_id) or len(source_id) > 100:
        raise click.BadParameter(f"{source_id[:120]!r} is not a source id: use lower-case words joined by hyphens "
                                 "(e.g. reuters-isis-attacks-2024), at most 100 characters.", param_hint="--id")
    target = out_dir / f"{source_id}.ttl"
    if target.exists() and not force:
        raise KgError(f"{target} exists already; use --force to overwrite it.")
    if draft and source_text is None:
        raise click.UsageError("--draft needs --source-text: the stubs quote the text.")
    text = read_text(source_text) if source_text else None
    ttl = new_source_template(source_id=source_id, title=title, publisher=publisher, url=url, text=text,
                              text_file=source_text.name if source_text else None, language=language)
    stubs = drafted = ""
    if draft:
        from kg.authoring.draft import draft_claims, drafts

        found = drafts(text)
        stubs = draft_claims(text, source_id=source_id, language=language, found=found)
        drafted = f" with {len(found)} claim stubs to complete or delete"
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(target, ttl + stubs)
    click.echo(f"wrote {target}{drafted}: fill in its claims from the examples at its end, then "
               f"`kg verify-quotes`, `kg coverage` and `kg add {target} --dry-run`.")


def _facts_for_text(text_path: Path, facts: Path | None, text: str) -> Path:
    """The facts file to check: the one given, or the one in facts/ that records this text."""
    if facts is not None:
        return facts
    import hashlib

    from kg.model.inputs import read_bounded
    from kg.model.rdffiles import MAX_FILE_BYTES
    from kg.model.resources import facts_dir

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    for candidate in sorted(Path("facts").glob("*.ttl")) or sorted(facts_dir().glob("*.ttl")):
        content = read_bounded(candidate, limit=MAX_FILE_BYTES, what="a facts file").decode("utf-8", "replace")
        if digest in content or f'"{text_path.name}"' in content:
            return candidate
    raise KgError(f"No facts file in facts/ records {text_path.name} (by name or SHA-256); give the facts file.")


@main.command()
@click.option("--source-text", "text_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The source text the facts quote.")
@click.argument("facts", required=False, type=click.Path(path_type=Path))
def coverage(text_path, facts):
    """Which sentences and numbers of a source text no claim quotes yet.

    Lists each sentence and number not encoded, and the passages excluded on purpose,
    then the counts. Exit status 0 when everything is covered, 1 otherwise.

    \b
    Example:
        kg coverage --source-text ../shared/sources/newsweek-isis-attacks-2024.txt
    """
    from kg.authoring.quotes import coverage as measure_coverage
    from kg.authoring.quotes import read_text
    from kg.model.rdffiles import read_turtle

    text = read_text(text_path)
    report = measure_coverage(text, read_turtle(_facts_for_text(text_path, facts, text)))
    click.echo(report.to_text())
    if not report.complete:
        raise ChecksFailed()


@main.command()
@click.argument("facts", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source-text", "text_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The source text the facts quote.")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
def anchor(facts, text_path, dry_run):
    """Compute each quote's offsets, prefix and suffix from its exact words, and write them into the file.

    Write the exact words (oa:exact) of each claim's evidence; kg finds them in the text and
    sets oa:start/oa:end (adding the TextPositionSelector where missing) and, where missing or
    wrong, oa:prefix/oa:suffix. Words that occur more than once need a hint which (a prefix, a
    suffix or a start); without one kg names the occurrences and writes nothing. The file is
    rewritten in kg's stable Turtle layout (longturtle), all or nothing. Exit status 0 when every
    quote is placed, 1 otherwise.

    \b
    Example:
        kg anchor facts/my-source.ttl --source-text ../shared/sources/my-source.txt
    """
    from kg.authoring.quotes import anchor_quotes, read_text
    from kg.model.atomicfile import write_text
    from kg.model.rdffiles import read_turtle

    graph = read_turtle(facts)
    report = anchor_quotes(read_text(text_path), graph)
    for problem in report.problems:
        click.echo(problem.to_text())
    if not report.ok:
        click.echo(f"{len(report.problems)} of {report.checked} quotes could not be placed; {facts} was not changed.")
        raise ChecksFailed()
    for name in report.changed:
        click.echo(f"{'would anchor' if dry_run else 'anchored'} {name}")
    if report.changed and not dry_run:
        write_text(facts, graph.serialize(format="longturtle"))
    verb = "would change" if dry_run else "changed"
    click.echo(f"{report.checked} quotes placed in the text; {len(report.changed)} {verb} in {facts}.")


@main.command(name="verify-quotes")
@click.option("--source-text", "text_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The source text the facts quote.")
@click.argument("facts", required=False, type=click.Path(path_type=Path))
def verify_quotes_command(text_path, facts):
    """Check every quote against the source text: exact words at the stated offsets,
    prefix and suffix, and the text's SHA-256 against the source's record.

    Each mismatch is reported with the nearest match found in the text. Exit status 0
    when all match, 1 otherwise.

    \b
    Example:
        kg verify-quotes --source-text ../shared/sources/newsweek-isis-attacks-2024.txt
    """
    from kg.authoring.quotes import read_text, verify_quotes
    from kg.model.rdffiles import read_turtle

    text = read_text(text_path)
    report = verify_quotes(text, read_turtle(_facts_for_text(text_path, facts, text)))
    click.echo(report.to_text())
    if not report.ok:
        raise ChecksFailed()


@main.command()
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"), show_default=True,
              help="The HTML file to write.")
@store_options
def report(out, target):
    """Write a self-contained HTML report: every comparison answered, charted and cited.

    One section per stored question with its answer table and a chart; every figure
    links to its evidence (claimant, reporting chain, source, the quote in its context);
    the store's validation status and the versions used. Opens offline, on a phone, and
    prints.

    \b
    Example:
        kg report --out report.html
    """
    from kg.views.report import write_report

    with target.open(read_only=True) as store:
        written = write_report(store, out)
    click.echo(f"wrote {written}")


@main.command()
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("docs"), show_default=True,
              help="The folder to write index.html and shapes.html into.")
def docs(out):
    """Write HTML documentation of the ontology (pyLODE) and of the shapes constraining each term.

    \b
    Example:
        kg docs --out docs
    """
    from kg.views.docs import write_docs

    for path in write_docs(out):
        click.echo(f"wrote {path}")


@main.command()
@click.option("--claim", default=None, metavar="IRI", help="Draw this claim's neighbourhood.")
@click.option("--source", default=None, metavar="IRI", help="Draw this source's claims and claimants.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("graph.svg"), show_default=True,
              help="The SVG file to write.")
@store_options
def graph(claim, source, out, target):
    """Draw part of the graph with Graphviz, as SVG.

    With --claim (its IRI, or SOURCE-ID/slug as tables show it): the claim, its claimant,
    reporting chain, source, quote and content.
    With --source: the source's claims and who made them. With neither: an overview of
    the sources, the claimants they relay and the kinds of claim. Needs Graphviz's `dot`
    (e.g. `apt-get install graphviz`).

    \b
    Example:
        kg graph --claim https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1 --out claim.svg
    """
    from kg.model.namespaces import claim_iri
    from kg.views.pictures import claim_graph, overview_graph, render_svg, source_graph

    if claim and source:
        raise click.UsageError("Give --claim or --source, not both.")
    if claim is not None and claim_iri(claim) is not None:
        claim = str(claim_iri(claim))  # SOURCE-ID/slug, as tables show claims
    for option, value in (("--claim", claim), ("--source", source)):
        if value is not None and (not value.startswith(("http://", "https://")) or re.search(r'[\s<>"{}|^`\\]', value)):
            raise click.BadParameter(f"{value[:120]!r} is not an IRI; give the full IRI (`kg query evidence` lists "
                                     "claims, `kg stats` sources).", param_hint=option)
    with target.open(read_only=True) as store:
        engine = store.engine
        dot = claim_graph(engine, claim) if claim else source_graph(engine, source) if source else overview_graph(engine)
    click.echo(f"wrote {render_svg(dot, out)}")


@main.command()
@click.option("--sources", type=click.IntRange(min=1), required=True, help="How many sources to generate (about 250 triples each).")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same corpus.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="The folder to write into.")
@click.option("--invalid-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of sources given one known violation (listed in expected-violations.json).")
@click.option("--conflict-share", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Share of sources that report another value for a figure an earlier source reported.")
def synth(sources, seed, out, invalid_share, conflict_share):
    """Generate a synthetic corpus shaped like the real facts (for benchmarks and scale tests).

    Writes OUT/facts/ (synthetic reference data and one file per source), OUT/texts/ (the
    generated source texts the quotes point into) and OUT/expected-violations.json. Load it
    with the ontology and facts/reference.ttl.

    \b
    Example:
        kg synth --sources 400 --seed 1 --out /tmp/corpus
        kg load ontology/kg.ttl facts/reference.ttl /tmp/corpus/facts --store /tmp/kg-100k
    """
    from kg.authoring.synth import synthesize

    summary = synthesize(sources=sources, seed=seed, out=out, invalid_share=invalid_share, conflict_share=conflict_share)
    click.echo(f"wrote {summary['sources']} sources to {out}/facts ({summary['conflicts']} with a conflicting figure, "
               f"{summary['invalid']} with a planted violation)")


if __name__ == "__main__":
    main()
