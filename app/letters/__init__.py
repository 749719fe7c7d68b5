"""Letters engine (文书): standard letters rendered from plain values as HTML and PDF.

Public API (no database access; the caller supplies plain values):

* catalogue — ``all_letters()``, ``get_letter(key)``, ``letter_for_outcome(code)``,
  ``letters_for_step(action)``, ``example_context(key)``; ``Letter.as_dict()`` lists the
  fields a letter needs (dotted names, Chinese labels, types, required).
* rendering — ``render_html(key, context, overrides=None, *, draft=False) -> str`` and
  ``render_pdf(key, context, draft=False, *, overrides=None) -> bytes``;
  ``validate_template(source, key=None) -> str | None`` for agency overrides;
  ``LetterError(message, field)`` for anything the caller can fix; ``repeated_sentences(html)``
  lists sentences a rendered letter prints twice; ``with_example_values(key, context)`` fills
  what a context lacks from the letter's example (previews of wording).
* variables — ``sections(letter)``, ``meaning(letter, name)``: what a template may use, in Chinese.
* ``warm_up()`` at process start: fonts, PDF engine and one letter (~3 s once).
* fonts — ``prepare_fonts()`` (run once at deploy time; the first render does it otherwise),
  ``configure_fonts(font_map)``, ``check_fonts()``; ``FontError`` when no CJK font exists.

Templates and their metadata live in ``letter_templates/`` (handbook §4, §5, §8.7–8.10).
"""
from __future__ import annotations

from .catalogue import (CatalogueError, Field, Letter, all_letters, example_context, get_letter,
                        letter_for_outcome, letters_for_step)
from .fonts import FontError, check_fonts, configure_fonts, prepare_fonts
from .render import (LetterError, letter_text, prepare_context, remedy_text, render_html, render_pdf,
                     repeated_sentences, validate_template, warm_up, with_example_values)

__all__ = [
    "CatalogueError", "Field", "FontError", "Letter", "LetterError", "all_letters",
    "check_fonts", "configure_fonts", "example_context", "get_letter", "letter_for_outcome",
    "letter_text", "letters_for_step", "prepare_context", "prepare_fonts", "remedy_text", "render_html",
    "render_pdf", "repeated_sentences", "validate_template", "warm_up", "with_example_values",
]
