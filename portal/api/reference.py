"""The API reference page: the OpenAPI document rendered as HTML on the server (no scripts,
no CDN: it works offline and under the portal's CSP)."""

METHODS = ("get", "post", "put", "patch", "delete")


def type_of(schema: dict) -> str:
    """A field's type as a reader reads it: «string (date-time)», «array of Item»."""
    if not schema:
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " or ".join(type_of(part) for part in schema[combinator])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else kind


def _fields(schema: dict) -> list[dict]:
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": type_of(prop),
            "required": name in required,
            "description": prop.get("description", ""),
            "enum": prop.get("enum") or prop.get("items", {}).get("enum"),
            "limits": _limits(prop),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _limits(schema: dict) -> str:
    parts = []
    for key, label in (
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minItems", "items ≥"),
        ("maxItems", "items ≤"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
        ("default", "default"),
    ):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    return ", ".join(parts)


def _response_schema(response: dict, components: dict) -> str:
    if "$ref" in response:
        response = components.get("responses", {}).get(response["$ref"].rsplit("/", 1)[-1], {})
    for media, body in (response.get("content") or {}).items():
        return f"{media}: {type_of(body.get('schema', {}))}"
    return ""


def operations(spec: dict) -> list[dict]:
    components = spec.get("components", {})
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            found.append(
                {
                    "anchor": f"{method}-{path}".replace("/", "-")
                    .replace("{", "")
                    .replace("}", ""),
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p.get("name"),
                            "in": p.get("in"),
                            "required": p.get("required", False),
                            "type": type_of(p.get("schema", {})),
                            "description": p.get("description", ""),
                            "limits": _limits(p.get("schema", {})),
                        }
                        for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                        if "$ref" not in p
                    ],
                    "body": [
                        f"{media}: {type_of(b.get('schema', {}))}" for media, b in body.items()
                    ],
                    "responses": [
                        (
                            code,
                            r.get("description", "") if "$ref" not in r else "",
                            _response_schema(r, components),
                        )
                        for code, r in operation.get("responses", {}).items()
                    ],
                }
            )
    return found


def schemas(spec: dict) -> list[tuple[str, str, list[dict]]]:
    return [
        (name, schema.get("description", ""), _fields(schema))
        for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items())
    ]
