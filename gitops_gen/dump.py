"""The one YAML dumper of every output: deterministic, byte-identical on every machine."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's C loader and dumper; the pure-Python ones give the same bytes, slower.
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _OutputDumper(_Dumper):  # type: ignore[misc]
    """Multi-line strings (scripts, embedded configs) as literal blocks, for review."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_OutputDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    # Key order is the plan's (fixed in code), never sorted away; no line folding,
    # ASCII only, so the bytes cannot vary with locale or terminal width.
    return yaml.dump(
        data,
        Dumper=_OutputDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=False,
        width=2**31 - 1,
        explicit_start=False,
    )


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=YAML_LOADER)


def load_all_yaml(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=YAML_LOADER))
