"""The options every store-using command shares, and the store they name.

One decorator, :func:`store_options`, gives a command ``--store``, ``--endpoint`` and the
endpoint's companions, and passes it one :class:`Target`; ``target.open()`` is the embedded
store or the SPARQL server, and the command never asks which.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import click

from kg.model.errors import KgError

SERVERS = ("oxigraph", "virtuoso", "fuseki")
STORE_HELP = ("The embedded store's folder [default: $KG_STORE, else the project's .kg/store, found by walking up "
              "from the current folder as git does].")


@dataclass(frozen=True)
class Target:
    """The store a command was pointed at: an embedded store's folder, or a SPARQL endpoint."""

    store_path: Path | None = None
    endpoint: str | None = None
    gsp_endpoint: str | None = None
    update_endpoint: str | None = None
    timeout: float = 30.0
    server: str | None = None

    @property
    def given(self) -> bool:
        """Whether --store or --endpoint was given (rather than the defaults)."""
        return self.store_path is not None or self.endpoint is not None

    def open(self, *, must_exist: bool = True, read_only: bool = False):
        """The store: a :class:`~kg.stores.sparql_protocol.RemoteStore` for --endpoint, else the embedded one.

        Args:
            read_only: For commands that only read: the embedded store opens without its lock, so they
                work while another process writes (they see what it has committed). Writers wait for
                the lock up to $KG_LOCK_WAIT seconds (30 by default).

        Raises:
            KgError: ``must_exist`` and there is no store, or it is empty.
        """
        if self.endpoint:
            if self.store_path is not None:
                raise click.UsageError("Give --store or --endpoint, not both.")
            from kg.stores.sparql_protocol import Endpoint, RemoteStore

            return RemoteStore(Endpoint.at(self.endpoint, gsp_url=self.gsp_endpoint, update_url=self.update_endpoint,
                                           timeout=self.timeout, server=self.server))
        from kg.stores.oxigraph import FactStore, default_store_path

        path = (self.store_path or default_store_path()).resolve()
        if must_exist and not path.exists():
            raise KgError(f"There is no store at {path}. Build it first with `kg load` in the project's folder (or "
                          "point --store at one, or set $KG_STORE).")
        wait = 0.0 if read_only else _lock_wait()
        store = _opened(FactStore(path, read_only=read_only, wait=wait))
        if must_exist and not store.graphs():
            store.close()
            raise KgError(f"The store at {path} is empty. Load the facts first with `kg load`.")
        return store


def _lock_wait() -> float:
    import os

    try:
        return max(0.0, float(os.environ.get("KG_LOCK_WAIT", "30")))
    except ValueError:
        raise KgError(f"$KG_LOCK_WAIT is {os.environ['KG_LOCK_WAIT']!r}; give a number of seconds.") from None


def _opened(store):
    """The store, after saying whether opening it rolled back an interrupted load, or (read-only) finds one under way."""
    if store.in_progress:
        click.echo(f"Note: a load into {store.path} is under way or was stopped ({len(store.in_progress)} new graph"
                   f"{'s' if len(store.in_progress) != 1 else ''} being written); these answers include what it has "
                   "written so far.", err=True)
    if store.recovered:
        shown = ", ".join(store.recovered[:3]) + (f" and {len(store.recovered) - 3} more" if len(store.recovered) > 3 else "")
        click.echo(f"Note: the store at {store.path} held an interrupted load ({len(store.recovered)} new graph"
                   f"{'s' if len(store.recovered) != 1 else ''} written before it stopped: {shown}). They were "
                   "removed, so the store is as it was before that load; run the load again.", err=True)
    return store


def store_options(command=None, *, store_help: str = STORE_HELP, store_envvar: str | None = "KG_STORE"):
    """Give a command --store, --endpoint, --gsp-endpoint, --update-endpoint, --timeout and --server,
    passed to it as one ``target`` (:class:`Target`)."""
    if command is None:
        return functools.partial(store_options, store_help=store_help, store_envvar=store_envvar)

    @functools.wraps(command)
    def with_target(*args, store_path, endpoint, gsp_endpoint, update_endpoint, timeout, server, **kwargs):
        return command(*args, target=Target(store_path, endpoint, gsp_endpoint, update_endpoint, timeout, server),
                       **kwargs)

    options = [
        click.option("--store", "store_path", type=click.Path(file_okay=False, path_type=Path), envvar=store_envvar,
                     default=None, help=store_help),
        click.option("--endpoint", metavar="URL", envvar="KG_ENDPOINT", default=None,
                     help="A SPARQL 1.1 query endpoint to use instead of the embedded store "
                          "(e.g. http://127.0.0.1:7878/query) [or $KG_ENDPOINT]."),
        click.option("--gsp-endpoint", metavar="URL", default=None,
                     help="Its Graph Store Protocol endpoint [default: the endpoint's sibling /store]."),
        click.option("--update-endpoint", metavar="URL", default=None,
                     help="Its SPARQL Update endpoint [default: the endpoint's sibling /update]."),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
                     help="Seconds to wait for each request to the endpoint (and, for `kg query`, for the answer)."),
        click.option("--server", type=click.Choice(SERVERS), envvar="KG_SERVER", default=None,
                     help="Which server --endpoint is, for where its update and Graph Store endpoints are "
                          "(virtuoso: /sparql and /sparql-graph-crud) [default: oxigraph's /update and /store; "
                          "or $KG_SERVER]."),
    ]
    for option in reversed(options):
        with_target = option(with_target)
    return with_target
