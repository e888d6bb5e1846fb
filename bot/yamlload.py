"""YAML loading with line numbers, on top of PyYAML's safe loader only.

Every mapping loads as a ``LineDict`` (a dict that also knows the line of each key and of
itself) and every list as a ``LineList`` (knows the line of each item), so validation can say
``file:line: message``. Duplicate keys, which PyYAML silently lets win, are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml


class LineDict(dict):
    line: int = 0
    key_lines: dict
    value_lines: dict


class LineList(list):
    line: int = 0
    item_lines: list


@dataclass
class YamlResult:
    data: object = None
    #: (line, message) pairs for problems found while loading (syntax, duplicate keys).
    problems: list[tuple[int, str]] = field(default_factory=list)


class _LineMixin:
    """Stamps mappings and lists with line numbers and finds duplicate keys."""

    duplicates: list[tuple[int, str]]

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        self.flatten_mapping(node)
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines, result.value_lines = {}, {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                key = str(key)
            line = key_node.start_mark.line + 1
            if key in result:
                self.duplicates.append(
                    (line, f'"{key}" appears twice in the same block (first on line {result.key_lines[key]}); remove one')
                )
                continue
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = line
            result.value_lines[key] = value_node.start_mark.line + 1
        return result

    def construct_sequence(self, node, deep=False):  # type: ignore[override]
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


class _PyLineLoader(_LineMixin, yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates = []


# libyaml's C parser when PyYAML was built with it (about ten times faster). Its error texts
# differ, so a file that fails to parse is parsed again in pure Python for the message.
_CLineLoader: type | None = None
if getattr(yaml, "CSafeLoader", None) is not None:

    class _CLineLoader(_LineMixin, yaml.CSafeLoader):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.duplicates = []


for _loader in (_PyLineLoader, _CLineLoader):
    if _loader is not None:
        _loader.add_constructor("tag:yaml.org,2002:map", lambda loader, node: loader.construct_mapping(node))
        _loader.add_constructor("tag:yaml.org,2002:seq", lambda loader, node: loader.construct_sequence(node))


def load_yaml(text: str) -> YamlResult:
    """Parse one YAML document; syntax errors become a problem with their line, never raise."""
    if _CLineLoader is not None:
        fast = _CLineLoader(text)
        try:
            return YamlResult(fast.get_single_data(), list(fast.duplicates))
        except yaml.YAMLError:
            pass  # parse again below for a readable message
        finally:
            fast.dispose()
    loader = _PyLineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "unreadable YAML"
        return YamlResult(None, [(line, f"the file is not valid YAML ({what}); check indentation, quotes and colons on this line or the one before")])
    except yaml.YAMLError as exc:
        return YamlResult(None, [(1, f"the file is not valid YAML ({exc})")])
    finally:
        loader.dispose()
    return YamlResult(data, list(loader.duplicates))
