"""Case search: the one search path of the ledger and the API (the `q` filter).

A case's searched texts are its applicant's name, the description of the request, its number, the
文号 of the document asked for, the number it had in an imported ledger (原编号) and the 答复文号
that ledger recorded, the ID numbers of the applicant and the agent, the phone (as digits:
Case.phone_key) and the 文号 of its issued letters (答复书 and every numbered notice): whatever
number an applicant quotes. Their tokens (app.domain.search) are stored on the case and kept
current by a flush hook: whatever writes those fields through the session (intake, import,
re-import, a letter issued with a 文号, any later edit) gets its tokens recomputed in the same
transaction.

A search is the index (every token of the term; PostgreSQL GIN over text[], SQLite FTS5) ANDed
with the exact substring check, which runs on the candidates only, on Case.search_text: the same
texts joined by SEPARATOR (a control character no term may hold, so a match never spans two
texts), kept by the same hook. Latin letters match regardless of case (ASCII only, as SQLite's
LIKE), on both databases: an ID number typed with x finds its X. A term typed as a phone number
with separators (138-1234-5678, +86 138 1234 5678) also finds the phone by its digits.
"""
from __future__ import annotations

from sqlalchemy import Text, and_, event, inspect, literal, literal_column, or_, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ..domain.search import index_tokens, phone_digits, query_tokens, tokens_decide
from ..extensions import db
from ..models import Case, Letter

SEARCHED = ("applicant_name", "description", "number", "doc_number", "original_number", "reply_number",
            "id_number", "agent_id_number", "phone_key")
FTS_TABLE = "case_search"  # SQLite: the FTS5 index of case.search_tokens (external content)
SEPARATOR = "\x1f"  # joins the texts in Case.search_text; services.params refuses it in any term


def case_texts(case: Case, session: Session | None = None) -> list[str]:
    """The searched texts of a case as it stands in the session: its fields, its stored letters'
    文号 and those of letters about to be inserted."""
    session = session or db.session
    numbers: set[str] = set()
    if case.id is not None:
        with session.no_autoflush:
            numbers.update(session.scalars(select(Letter.number).where(
                Letter.case_id == case.id, Letter.number.is_not(None))))
    numbers.update(x.number for x in session.new
                   if isinstance(x, Letter) and x.number and (x.case is case or (case.id and x.case_id == case.id)))
    return [*(getattr(case, k) or "" for k in SEARCHED), *sorted(numbers)]


def case_tokens(case: Case, session: Session | None = None) -> list[str]:
    return index_tokens(*case_texts(case, session))


def search_text(texts) -> str:
    return SEPARATOR.join(t for t in texts if t)


def set_new_case_search(case: Case) -> None:
    """Tokens and text of a case inserted without the ORM's flush (bulk import): no letters yet."""
    texts = [getattr(case, k) or "" for k in SEARCHED]
    case.search_tokens, case.search_text = index_tokens(*texts), search_text(texts)


def _case_of(session: Session, letter: Letter) -> Case | None:
    if letter.case is not None:
        return letter.case
    return session.get(Case, letter.case_id) if letter.case_id is not None else None


def _refresh_tokens(session: Session, flush_context, instances) -> None:
    stale: list[Case] = []
    for obj in session.new:
        if isinstance(obj, Case):
            stale.append(obj)
        elif isinstance(obj, Letter) and obj.number:
            with session.no_autoflush:
                case = _case_of(session, obj)
            if case is not None:
                stale.append(case)
    for obj in session.dirty:
        if isinstance(obj, Case):
            state = inspect(obj)
            if any(state.attrs[k].history.has_changes() for k in SEARCHED):
                stale.append(obj)
    for case in {id(c): c for c in stale}.values():
        texts = case_texts(case, session)
        tokens, joined = index_tokens(*texts), search_text(texts)
        if case.search_tokens != tokens:
            case.search_tokens = tokens
        if case.search_text != joined:
            case.search_text = joined


event.listen(db.session, "before_flush", _refresh_tokens)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def fts_query(tokens: list[str]) -> str:
    """An FTS5 MATCH expression: every token, each a quoted string (tokens hold no quote, but a
    doubled quote is FTS5's escape should one ever appear)."""
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in tokens)


def substring_check(term: str):
    """The exact check alone (no index): for walking the cases in list order when matches are
    dense, where finding a page's worth takes a few hundred rows."""
    check = Case.search_text.icontains(term, autoescape=True)
    digits = phone_digits(term)
    return check if digits is None else or_(check, Case.phone_key.contains(digits, autoescape=True))


def condition(term: str):
    """The WHERE condition for cases containing term in a searched text (the caller adds the
    agency). Without a letter or digit in the term there are no tokens: the check runs on all."""
    check = substring_check(term)
    tokens = query_tokens(term)
    if not tokens:
        return check
    digits = phone_digits(term)
    # A phone typed with separators: the cases holding the term's tokens or its digits' tokens.
    alternatives = [tokens] if digits is None else [tokens, query_tokens(digits)]
    if _dialect() == "postgresql":
        index = or_(*(Case.search_tokens.op("@>")(literal(t, postgresql.ARRAY(Text))) for t in alternatives))
    else:
        match = fts_query(tokens) if digits is None else " OR ".join(f"({fts_query(t)})" for t in alternatives)
        index = Case.id.in_(select(literal_column("rowid")).select_from(text(FTS_TABLE))
                            .where(text(f"{FTS_TABLE} MATCH :search_match").bindparams(search_match=match)))
    # 王伟, 伟, "12": the token is the term, so the index alone decides (no ILIKE on every candidate).
    return index if tokens_decide(term) and digits is None else and_(index, check)
