"""Every type, field, argument, input field and enum value of the API has a description.

The schema is walked as clients see it (the SDL the service prints, parsed by graphql-core);
a failure lists every missing description by its schema coordinate (`Type.field`,
`Type.field(argument:)`, `Enum.VALUE`), one per line, so whoever added them knows where.
Scalars must also carry `@specifiedBy`, so code generators and clients can type them.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)
from graphql.type import specified_scalar_types

from graph.schema import schema

BUILT_IN_SCALARS = set(specified_scalar_types)


def _client_schema() -> GraphQLSchema:
    return build_schema(schema.as_str())


def missing_descriptions(client_schema: GraphQLSchema) -> list[str]:
    """Schema coordinates of every element without a (non-blank) description."""
    missing: list[str] = []

    def check(coordinate: str, description: str | None) -> None:
        if not (description or "").strip():
            missing.append(coordinate)

    for name, named in sorted(client_schema.type_map.items()):
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        check(name, named.description)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                check(f"{name}.{field_name}", field.description)
                for arg_name, arg in field.args.items():
                    check(f"{name}.{field_name}({arg_name}:)", arg.description)
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                check(f"{name}.{field_name}", input_field.description)
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                check(f"{name}.{value_name}", value.description)
    return missing


def test_every_schema_element_has_a_description() -> None:
    missing = missing_descriptions(_client_schema())

    assert not missing, f"{len(missing)} schema elements have no description:\n" + "\n".join(
        missing
    )


def test_the_walk_finds_a_missing_description() -> None:
    bare = build_schema(
        '"""A query."""\ntype Query {\n  """Described."""\n  a(x: Int): E\n  b: Int\n}\n'
        "enum E {\n  ONE\n}\n"
    )

    assert missing_descriptions(bare) == ["E", "E.ONE", "Query.a(x:)", "Query.b"]


def test_every_custom_scalar_is_specified_by_a_url() -> None:
    client_schema = _client_schema()
    scalars = {
        name: named.specified_by_url
        for name, named in client_schema.type_map.items()
        if isinstance(named, GraphQLScalarType) and name not in BUILT_IN_SCALARS
    }

    assert scalars == {
        "BigInt": "https://www.rfc-editor.org/rfc/rfc8259#section-6",
        "Date": "https://www.rfc-editor.org/rfc/rfc3339",
        "DateTime": "https://www.rfc-editor.org/rfc/rfc3339",
        "Decimal": "https://www.w3.org/TR/xmlschema11-2/#decimal",
        "JSON": "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf",
        "UUID": "https://www.rfc-editor.org/rfc/rfc9562",
    }
