"""A tiny HTML reader for the web tests: elements by id, form values by name, visible text."""
from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def textarea_value(n: "Node") -> str:
    text = "".join(c for c in n.children if isinstance(c, str))
    # HTML drops one newline right after <textarea>.
    return text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text


class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None") -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def text(self) -> str:
        out = []
        for c in self.children:
            out.append(c if isinstance(c, str) else c.text)
        return re.sub(r"\s+", " ", "".join(out)).strip()

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def get(self, name: str, default=None):
        return self.attrs.get(name, default)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


class Page:
    def __init__(self, response) -> None:
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        b = _Builder()
        b.feed(self.html)
        self.root = b.root

    @property
    def text(self) -> str:
        return self.root.text

    def all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list[Node]:
        out = []
        for n in self.root.iter():
            if tag and n.tag != tag:
                continue
            if cls and cls not in n.classes:
                continue
            if all(n.attrs.get(k) == v for k, v in attrs.items()):
                out.append(n)
        return out

    def by_id(self, id_: str) -> Node | None:
        found = self.all(id=id_)
        return found[0] if found else None

    def has_id(self, id_: str) -> bool:
        return self.by_id(id_) is not None

    def field(self, name: str, form_id: str | None = None) -> Node | None:
        scope = self.by_id(form_id) if form_id else self.root
        for n in scope.iter():
            if n.get("name") == name and n.tag in ("input", "select", "textarea"):
                return n
        return None

    def value(self, name: str):
        """What the browser would submit for this field name (None for an unchecked checkbox)."""
        n = self.field(name)
        if n is None:
            raise KeyError(name)
        if n.tag == "textarea":
            return textarea_value(n)
        if n.tag == "select":
            opts = [o for o in n.iter() if o.tag == "option"]
            chosen = [o for o in opts if "selected" in o.attrs] or opts[:1]
            return chosen[0].get("value", chosen[0].text) if chosen else None
        if n.get("type") == "checkbox":
            return n.get("value", "y") if "checked" in n.attrs else None
        return n.get("value", "")

    def options(self, name: str) -> list[tuple[str, str]]:
        n = self.field(name)
        return [(o.get("value", ""), o.text) for o in n.iter() if o.tag == "option"]

    def error_for(self, name: str) -> str | None:
        n = self.by_id(f"error-{name}")
        return n.text if n is not None else None

    def form_error(self) -> str | None:
        n = self.by_id("form-error")
        return n.text if n is not None else None

    def flashes(self) -> list[str]:
        return [n.text for n in self.all(cls="alert") if n.parent and "flashes" in n.parent.classes]
