"""``python -m graphmem.api``: serve the API, manage API keys, print the schema.

python -m graphmem.api serve --store sqlite:///graph.db --port 8000 --keys keys.json
python -m graphmem.api keys create --file keys.json --namespace team-a [--id team-a] [--read-only]
python -m graphmem.api keys list --file keys.json
python -m graphmem.api keys revoke --file keys.json --id team-a
python -m graphmem.api schema > schema/schema.graphql
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from graphmem.errors import GraphmemError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m graphmem.api", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="serve the GraphQL API with uvicorn")
    s.add_argument("--store", default="sqlite:///graphmem.db")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument(
        "--keys", default=None, help="API key file (JSON); without it the server is open"
    )
    s.add_argument("--graphiql", action="store_true", help="serve GraphiQL on GET /graphql")
    s.add_argument(
        "--no-explore", action="store_true", help="do not serve the explorer on /explore"
    )
    s.add_argument("--allow-open", action="store_true", help="allow no keys on a non-loopback host")
    s.add_argument("--extractor", default="nlp", help="nlp | none")
    s.add_argument("--namespace", default="default")
    s.add_argument("--log-level", default="info")

    k = sub.add_parser("keys", help="create, list or revoke API keys")
    ksub = k.add_subparsers(dest="action", required=True)
    c = ksub.add_parser("create", help="add a key; prints it once")
    c.add_argument("--file", required=True)
    c.add_argument("--namespace", action="append", required=True, help="repeatable; '*' for all")
    c.add_argument("--id", default=None)
    c.add_argument("--read-only", action="store_true")
    c.add_argument("--description", default=None)
    ls = ksub.add_parser("list", help="list keys (ids and namespaces; never secrets)")
    ls.add_argument("--file", required=True)
    r = ksub.add_parser("revoke", help="remove a key")
    r.add_argument("--file", required=True)
    r.add_argument("--id", required=True)

    sub.add_parser("schema", help="print the GraphQL schema (SDL)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            from graphmem.api.server import serve

            serve(
                args.store, host=args.host, port=args.port, keys=args.keys, graphiql=args.graphiql,
                explorer=not args.no_explore, allow_open=args.allow_open, extractor=args.extractor,
                namespace=args.namespace, log_level=args.log_level,
            )  # fmt: skip
        elif args.command == "schema":
            from graphmem.api.schema import schema

            print(schema.as_str())
        else:
            return _keys(args)
    except GraphmemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _keys(args: argparse.Namespace) -> int:
    import os

    from graphmem.api.auth import create_key, read_keys, revoke_key
    from graphmem.api.server import PEPPER_ENV

    if args.action == "create":
        token = create_key(
            args.file, args.namespace, key_id=args.id, read_only=args.read_only,
            description=args.description, pepper=os.environ.get(PEPPER_ENV, "").encode(),
        )  # fmt: skip
        print(token)
        print("(shown once: only its hash is stored)", file=sys.stderr)
    elif args.action == "list":
        for key in read_keys(args.file):
            mode = "read-only" if key.read_only else "read-write"
            print(f"{key.id}\t{','.join(key.namespaces)}\t{mode}\t{key.created_at}")
    elif args.action == "revoke" and not revoke_key(args.file, args.id):
        print(f"error: no key {args.id!r} in {args.file}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
