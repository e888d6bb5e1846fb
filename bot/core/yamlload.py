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


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_SCALAR = yaml.ScalarNode
#: keys that PyYAML's ``flatten_mapping`` acts on: "<<" (merge) and "="
_MERGE = "tag:yaml.org,2002:merge"
_MERGE_TAGS = frozenset({_MERGE, "tag:yaml.org,2002:value"})


class _LineMixin:
    """Builds the document from the composed nodes: mappings become ``LineDict``, lists
    ``LineList``, with line numbers; duplicate keys are collected.

    Plain text scalars (nearly everything in a knowledge base) are taken straight from their node,
    with no call per value; every other node goes through PyYAML's safe constructor (numbers,
    dates, true/false, null, and an error for any unsafe tag). Walking the nodes directly is
    about twice as fast as PyYAML's generic constructor, which matters at thousands of files."""

    duplicates: list[tuple[int, str]]

    def build(self):
        node = self.get_single_node()  # type: ignore[attr-defined]
        return None if node is None else self._build(node, set(), {})

    def _build(self, node, active: set[int], built: dict[int, object]):
        if isinstance(node, yaml.ScalarNode):
            return node.value if node.tag == _STR else self.construct_object(node, deep=True)  # type: ignore[attr-defined]
        if node.tag not in (_MAP, _SEQ):
            return self.construct_object(node, deep=True)  # type: ignore[attr-defined]
        if id(node) in built:  # an alias (*name) of a list or block already built: share it
            return built[id(node)]
        if id(node) in active:  # an anchor used inside itself: "&a [*a]"
            raise yaml.constructor.ConstructorError(
                None, None, "a value refers to itself through an anchor (&) and alias (*)", node.start_mark
            )
        active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                # a list of texts (questions) is the common case: no call per item
                items = LineList(
                    [
                        child.value
                        if child.__class__ is _SCALAR and child.tag == _STR
                        else self._build(child, active, built)
                        for child in node.value
                    ]
                )
                items.line = node.start_mark.line + 1
                items.item_lines = [child.start_mark.line + 1 for child in node.value]
                built[id(node)] = items
                return items
            # "<<: *base" merges another block's fields in (PyYAML puts them first); a field
            # written in this block replaces a merged one, as in yaml.safe_load
            merged: set = set()
            merged_count = 0
            if not _MERGE_TAGS.isdisjoint({key_node.tag for key_node, _ in node.value}):
                written = sum(key_node.tag != _MERGE for key_node, _ in node.value)
                self.flatten_mapping(node)  # type: ignore[attr-defined]
                merged_count = len(node.value) - written
            result = LineDict()
            result.line = node.start_mark.line + 1
            result.key_lines, result.value_lines = {}, {}
            for index, (key_node, value_node) in enumerate(node.value):
                if key_node.__class__ is _SCALAR and key_node.tag == _STR:  # a field name
                    key = key_node.value
                else:
                    key = self._build(key_node, active, built)
                    try:
                        hash(key)
                    except TypeError:
                        key = str(key)
                line = key_node.start_mark.line + 1
                if index < merged_count:
                    merged.add(key)
                elif key in merged:
                    merged.discard(key)
                elif key in result:
                    self.duplicates.append(
                        (
                            line,
                            f'"{key}" appears twice in the same block (first on line {result.key_lines[key]}); remove one',
                        )
                    )
                    continue
                if value_node.__class__ is _SCALAR and value_node.tag == _STR:
                    result[key] = value_node.value
                else:
                    result[key] = self._build(value_node, active, built)
                result.key_lines[key] = line
                result.value_lines[key] = value_node.start_mark.line + 1
            built[id(node)] = result
            return result
        finally:
            active.discard(id(node))


class _ResolveMixin:
    """PyYAML's tag resolution (is this plain text a number, a date, true/false, null?) with
    the same answers, minus the steps a safe loader never uses: path and wildcard resolvers (a
    test checks PyYAML's safe loader has none). The parser calls these methods for every value,
    so they show at thousands of files."""

    yaml_implicit_resolvers: dict

    def resolve(self, kind, value, implicit):
        if kind is _SCALAR:
            if implicit[0]:  # plain (unquoted) text: the resolvers for its first character
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    # Path resolvers only: none in a safe loader, so nothing to track while descending.
    def descend_resolver(self, current_node, current_index) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


class _PyLineLoader(_LineMixin, _ResolveMixin, yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates = []


# libyaml's C parser when PyYAML was built with it (about ten times faster). Its error texts
# differ, so a file that fails to parse is parsed again in pure Python for the message.
_CLineLoader: type | None = None
if getattr(yaml, "CSafeLoader", None) is not None:

    class _CLineLoader(_LineMixin, _ResolveMixin, yaml.CSafeLoader):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.duplicates = []


def load_yaml(text: str) -> YamlResult:
    """Parse one YAML document; syntax errors become a problem with their line, never raise."""
    if _CLineLoader is not None:
        fast = _CLineLoader(text)
        try:
            return YamlResult(fast.build(), list(fast.duplicates))
        except yaml.YAMLError:
            pass  # parse again below for a readable message
        finally:
            fast.dispose()
    loader = _PyLineLoader(text)
    try:
        data = loader.build()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "unreadable YAML"
        return YamlResult(
            None,
            [
                (
                    line,
                    f"the file is not valid YAML ({what}); check indentation, quotes and colons on this line or the one before",
                )
            ],
        )
    except yaml.YAMLError as exc:
        return YamlResult(None, [(1, f"the file is not valid YAML ({exc})")])
    finally:
        loader.dispose()
    return YamlResult(data, list(loader.duplicates))
