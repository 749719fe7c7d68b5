"""Store identical images once: letters merged into one file each bring their own copy of the
same seal; after de-duplication every page points at one image object."""
from __future__ import annotations

import hashlib

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject


def _key(stream: StreamObject, canonical: dict[int, IndirectObject]) -> str:
    """Hash of the encoded data and of the dictionary (references by their canonical object)."""
    h = hashlib.sha256(stream._data)

    def norm(v):
        if isinstance(v, IndirectObject):
            target = canonical.get(v.idnum, v)
            return f"R{target.idnum}"
        if isinstance(v, DictionaryObject):
            return "{" + ",".join(f"{k}:{norm(x)}" for k, x in sorted(v.items()) if k != "/Length") + "}"
        if isinstance(v, ArrayObject):
            return "[" + ",".join(norm(x) for x in v) + "]"
        return repr(v)

    h.update(norm(DictionaryObject(stream)).encode())
    return h.hexdigest()


def _images(writer: PdfWriter) -> list[StreamObject]:
    return [o for o in writer._objects if isinstance(o, StreamObject) and o.get("/Subtype") == "/Image"
            and o.indirect_reference is not None]


def dedupe_images(writer: PdfWriter) -> dict[str, int]:
    """Merge identical image XObjects (masks first, so images using equal masks match too);
    returns {"images": before, "unique": after}."""
    images = _images(writer)
    canonical: dict[int, IndirectObject] = {}  # idnum of a duplicate → the kept object's reference
    seen: dict[str, IndirectObject] = {}
    # Masks have no masks of their own: hashing them first lets their users compare equal.
    for stream in sorted(images, key=lambda s: ("/SMask" in s or "/Mask" in s)):
        key = _key(stream, canonical)
        ref = stream.indirect_reference
        if key in seen:
            canonical[ref.idnum] = seen[key]
        else:
            seen[key] = ref
    if canonical:
        for obj in writer._objects:
            if isinstance(obj, (DictionaryObject, ArrayObject)):
                _replace(obj, canonical)
        for idnum in canonical:
            writer._objects[idnum - 1] = None
    return {"images": len(images), "unique": len(seen)}


def _replace(obj, canonical: dict[int, IndirectObject]) -> None:
    items = obj.items() if isinstance(obj, DictionaryObject) else enumerate(obj)
    for k, v in list(items):
        if isinstance(v, IndirectObject):
            if v.idnum in canonical:
                obj[k] = canonical[v.idnum]
        elif isinstance(v, (DictionaryObject, ArrayObject)):
            _replace(v, canonical)
