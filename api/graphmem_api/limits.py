"""Limits that keep one request from taking the server down.

- operation depth, aliases and tokens: strawberry's ``QueryDepthLimiter``, ``MaxAliasesLimiter`` and
  ``MaxTokensLimiter``, checked before anything runs;
- complexity: every selected field costs 1, times the page size (``k``, ``first``, ``limit``) of the
  list fields above it; checked before anything runs, with the request's variables;
- ``k``, page size, neighbourhood depth, question length and documents per ingest: checked by the
  resolvers (:func:`check_range`);
- request body size: checked by the ASGI app before the body is parsed.

Every limit answers ``LIMIT_EXCEEDED`` with a message naming the limit.

>>> Limits().max_k
100
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    get_named_type,
)
from graphql import parse as parse_document
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document

from graphmem_api.errors import BAD_REQUEST, LIMIT_EXCEEDED, APIError

#: arguments that multiply the cost of what is selected under a field
PAGE_ARGUMENTS = ("k", "first", "limit")


@dataclass(frozen=True)
class Limits:
    """Every bound the API enforces. The defaults suit one shared server on modest hardware."""

    max_request_bytes: int = 8 * 1024 * 1024
    #: lists and objects nested in a request body (JSON variables included)
    max_json_depth: int = 64
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2_000
    max_complexity: int = 20_000
    max_k: int = 100
    max_page_size: int = 100
    max_neighbor_depth: int = 3
    #: nodes a neighbourhood walk may visit before it stops (and says it was truncated)
    max_walk_nodes: int = 5_000
    max_question_chars: int = 4_000
    max_documents: int = 10_000
    max_document_chars: int = 1_000_000
    #: ingest jobs waiting to run; more are refused until some finish
    max_queued_jobs: int = 64


def check_range(name: str, value: int, low: int, high: int) -> int:
    """``value`` if ``low <= value <= high``; else ``BAD_REQUEST`` (too low) or ``LIMIT_EXCEEDED``."""
    if value < low:
        raise APIError(f"{name} must be at least {low}, got {value}")
    if value > high:
        raise APIError(f"{name} must be at most {high}, got {value}", LIMIT_EXCEEDED)
    return value


def _tagged(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """``rule`` whose errors carry ``code: LIMIT_EXCEEDED`` (strawberry's limiters set no code)."""

    class Tagged(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ValidationContext) -> None:
            report = context.on_error

            def on_error(error: GraphQLError) -> None:
                error.extensions = {**(error.extensions or {}), "code": LIMIT_EXCEEDED}
                report(error)

            # These limiters do all their work in __init__, so the hook is restored right after.
            context.on_error = on_error  # type: ignore[method-assign]
            try:
                super().__init__(context)
            except Exception:
                # The limiters assume a well-formed document (e.g. `query { }` breaks the depth
                # check): such a document is the caller's error, not the server's.
                ASTValidationRule.__init__(self, context)
                report(
                    GraphQLError(
                        "invalid operation: it could not be checked against the server's limits",
                        extensions={"code": BAD_REQUEST},
                    )
                )
            finally:
                context.on_error = report  # type: ignore[method-assign]

    Tagged.__name__ = f"Tagged{rule.__name__}"
    return Tagged


def _complexity(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    cap: int,
    page_cap: int,
) -> int:
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]

    def page(field: FieldNode, parent: GraphQLObjectType | GraphQLInterfaceType) -> int:
        definition = parent.fields.get(field.name.value)
        for arg in field.arguments or ():
            if arg.name.value not in PAGE_ARGUMENTS:
                continue
            value: Any = None
            if isinstance(arg.value, IntValueNode):
                value = int(arg.value.value)
            elif isinstance(arg.value, VariableNode):
                value = variables.get(arg.value.name.value)
            if isinstance(value, int) and not isinstance(value, bool):
                # Larger pages are refused by the resolver, with a message naming the argument.
                return min(max(1, value), page_cap)
        if definition is not None:
            for name in PAGE_ARGUMENTS:
                arg_def = definition.args.get(name)
                if arg_def is not None and isinstance(arg_def.default_value, int):
                    return max(1, arg_def.default_value)
        return 1

    def walk(selection_set: SelectionSetNode | None, parent: Any, depth: int) -> int:
        # Depth is bounded here too: validation rules all run, even on a document that another
        # rule (fragment cycles, depth) has already rejected.
        if selection_set is None or parent is None or depth > 64:
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                fields = getattr(parent, "fields", {})
                definition = fields.get(sel.name.value)
                child = get_named_type(definition.type) if definition is not None else None
                inner = walk(sel.selection_set, child, depth + 1)
                total += 1 + page(sel, parent) * inner if inner else 1
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition
                target = schema.get_type(cond.name.value) if cond is not None else parent
                total += walk(sel.selection_set, target, depth + 1)
            elif isinstance(sel, FragmentSpreadNode):
                frag = fragments.get(sel.name.value)
                if frag is not None:
                    target = schema.get_type(frag.type_condition.name.value)
                    total += walk(frag.selection_set, target, depth + 1)
            if total > cap:
                return total  # no need to count further: it is already too much
        return total

    return walk(operation.selection_set, root, 0)


def complexity_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any],
    cap: int,
    page_cap: int,
) -> list[GraphQLError]:
    """``LIMIT_EXCEEDED`` for each operation whose estimated cost exceeds ``cap``."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    errors = []
    for op in document.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        if _complexity(schema, op, fragments, variables, cap, page_cap) > cap:
            name = op.name.value if op.name else "the operation"
            errors.append(
                GraphQLError(
                    f"{name} is too complex: its estimated cost exceeds {cap:,} "
                    "(fields selected, times page sizes)",
                    extensions={"code": LIMIT_EXCEEDED},
                )
            )
    return errors


def operation_name_errors(document: DocumentNode, name: str | None) -> list[GraphQLError]:
    """The GraphQL spec's operation choice: a document holding several operations runs the
    one ``operationName`` names, and without one it is an error (never the first one)."""
    names = [
        op.name.value if op.name else "(anonymous)"
        for op in document.definitions
        if isinstance(op, OperationDefinitionNode)
    ]
    if name is None and len(names) > 1:
        listed = ", ".join(names[:10])
        return [
            GraphQLError(
                f"the document holds {len(names)} operations ({listed}): "
                "say which to run with operationName",
                extensions={"code": BAD_REQUEST},
            )
        ]
    if name is not None and name not in names:
        return [
            GraphQLError(
                f"operationName {name!r} names no operation in the document",
                extensions={"code": BAD_REQUEST},
            )
        ]
    return []


class CheckedValidation(SchemaExtension):
    """Validation: graphql-core's rules and the depth and alias limits, cached per document; then
    the complexity limit, every time, with the request's variables.

    The complexity of ``search(k: $k)`` depends on ``$k``, so it cannot be cached with the rest;
    the rest is what costs (a client sends the same big query again and again).
    """

    def __init__(
        self,
        rules: tuple[type[ASTValidationRule], ...],
        validate: Callable[..., list[GraphQLError]],
        max_complexity: int,
        page_cap: int,
    ) -> None:
        self.rules, self.validate = rules, validate
        self.max_complexity, self.page_cap = max_complexity, page_cap

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.pre_execution_errors is None:
            schema = ctx.schema._schema
            errors = list(self.validate(schema, document, (*ctx.validation_rules, *self.rules)))
            if not errors:
                # ctx.operation_name falls back to the first operation: the spec says error.
                given = getattr(ctx, "_provided_operation_name", ctx.operation_name)
                errors = operation_name_errors(document, given)
            if not errors:
                variables = dict(ctx.variables or {})
                errors = complexity_errors(
                    schema, document, variables, self.max_complexity, self.page_cap
                )
            ctx.pre_execution_errors = errors  # strawberry then skips its own validation
        yield


class CachedParse(SchemaExtension):
    """Parse each distinct query text once (an LRU cache shared by every request).

    A document that does not parse is left to strawberry, which parses it again and reports the
    error the usual way.
    """

    def __init__(self, parse: Callable[..., DocumentNode]) -> None:
        self.parse = parse

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query:
            with contextlib.suppress(GraphQLError):
                ctx.graphql_document = self.parse(ctx.query, **ctx.parse_options)
        yield


def limit_extensions(limits: Limits) -> list[Callable[[], SchemaExtension]]:
    """Per-request factories of the extensions enforcing ``limits``.

    The rule classes and the caches are made once here, so they are shared by every request
    (a new rule class per request would defeat the validation cache).
    """
    depth = QueryDepthLimiter(max_depth=limits.max_depth).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules
    rules = tuple(_tagged(r) for r in (*depth, *aliases))
    validate = lru_cache(maxsize=256)(validate_document)
    parse = lru_cache(maxsize=256)(parse_document)
    page_cap = max(limits.max_k, limits.max_page_size)
    return [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: CachedParse(parse),
        lambda: CheckedValidation(rules, validate, limits.max_complexity, page_cap),
    ]
