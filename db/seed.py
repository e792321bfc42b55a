"""The demo set: the facts of the article of 30 January 2026 on Amazon and OpenAI.

Everything here is as the article states it (shared/examples/): qualifiers ("up to",
"about", "more than"), who is said to negotiate, which source says what, and the
French passage each claim rests on. Rows have fixed ids, and every insert skips
what is already there, so seeding twice changes nothing.
"""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from db.infra.types import Connection
from db.rows import MoneyEstimate

_NAMESPACE = uuid.UUID("5f0c3b52-8d1e-4c55-9a8e-2f4a4d0e7c11")
BILLION = Decimal(1_000_000_000)


def demo_id(name: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, name)


def _usd(qualifier: str, low: Decimal | None, high: Decimal | None) -> MoneyEstimate:
    usd = high if qualifier == "UP_TO" else low
    return MoneyEstimate(qualifier, "USD", low, high, usd)


def _about(billions: int) -> MoneyEstimate:
    return _usd("ABOUT", billions * BILLION, billions * BILLION)


def _up_to(billions: int) -> MoneyEstimate:
    return _usd("UP_TO", None, billions * BILLION)


def _at_least(billions: int) -> MoneyEstimate:
    return _usd("AT_LEAST", billions * BILLION, None)


@dataclass(frozen=True)
class _Org:
    slug: str
    name: str
    description: str
    country_code: str | None = None
    website: str | None = None
    investor_types: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


_ORGANIZATIONS = [
    _Org(
        "openai",
        "OpenAI",
        "American AI company, maker of the GPT models.",
        "USA",
        "https://openai.com",
        aliases=("Open AI",),
    ),
    _Org(
        "amazon",
        "Amazon",
        "E-commerce and cloud (AWS) group.",
        "USA",
        "https://www.amazon.com",
        ("CORPORATE",),
        ("Amazon.com", "AWS"),
    ),
    _Org(
        "anthropic",
        "Anthropic",
        "AI company, a direct competitor of OpenAI.",
        "USA",
        "https://www.anthropic.com",
    ),
    _Org(
        "nvidia",
        "Nvidia",
        "Maker of the GPUs that train AI models.",
        "USA",
        "https://www.nvidia.com",
        ("CORPORATE",),
        ("NVIDIA",),
    ),
    _Org(
        "microsoft",
        "Microsoft",
        "Software and cloud group.",
        "USA",
        "https://www.microsoft.com",
        ("CORPORATE",),
    ),
    _Org(
        "softbank",
        "SoftBank",
        "Japanese investment group.",
        "JPN",
        "https://group.softbank",
        ("CORPORATE",),
        ("SoftBank Group",),
    ),
    _Org(
        "middle-east-sovereign-wealth-funds",
        "Middle East sovereign wealth funds",
        "Sovereign wealth funds of the Middle East, reported as a group and not named "
        "by the source.",
        investor_types=("SOVEREIGN_WEALTH_FUND",),
        aliases=("fonds souverains du Moyen-Orient",),
    ),
]

ARTICLE = demo_id("source:article")
WSJ = demo_id("source:wsj")
OPENAI_ROUND = demo_id("round:openai-2026")
ANTHROPIC_ROUND = demo_id("round:anthropic-amazon")
_ARTICLE_PUBLISHED = datetime.datetime(2026, 1, 30, 11, 5, tzinfo=datetime.UTC)  # 12:05 Paris

_Q_AMAZON_50 = (
    "Selon plusieurs sources concordantes, Amazon serait en discussions avancées pour "
    "injecter jusqu’à 50 milliards de dollars dans OpenAI, une opération qui pourrait "
    "propulser la valorisation de la startup américaine à près de 830 milliards de dollars !"
)
_Q_RAISE = (
    "Déjà estimée à environ 500 milliards de dollars, OpenAI chercherait à lever jusqu’à "
    "100 milliards supplémentaires afin d’accélérer le développement de ses modèles d’IA et "
    "renforcer ses capacités d’infrastructure."
)
_Q_WSJ_HALF = (
    "D’après le Wall Street Journal, Amazon pourrait représenter à lui seul la moitié de "
    "cette enveloppe colossale."
)
_Q_NEGOTIATORS = (
    "Les négociations seraient pilotées directement par Andy Jassy, le CEO du géant du "
    "eCommerce et du cloud, en lien avec Sam Altman, dirigeant d’OpenAI."
)
_Q_CLOSE = (
    "Ni Amazon ni OpenAI n’ont officiellement confirmé ces discussions, mais plusieurs médias "
    "spécialisés évoquent une finalisation potentielle d’ici la fin du premier trimestre."
)
_Q_OTHERS = (
    "De son côté, OpenAI aurait aussi engagé des discussions avec des fonds souverains du "
    "Moyen-Orient, ainsi qu’avec Nvidia, Microsoft et SoftBank, dans une logique de "
    "diversification de ses partenaires financiers."
)
_Q_ANTHROPIC = (
    "Le groupe de Jeff Bezos a également investi plus de 8 milliards de dollars dans Anthropic"
)


_ROWS = """
    select (select count(*) from organizations) + (select count(*) from people)
         + (select count(*) from sources) + (select count(*) from rounds)
         + (select count(*) from participations) + (select count(*) from claims)
"""


async def seed(conn: Connection) -> int:
    """Load the demo set in one transaction; rows already there are left as they are.
    The number of rows it added: 0 when the demo set was there already."""
    async with conn.transaction():
        before: int = await conn.fetchval(_ROWS)
        org = await _seed_organizations(conn)
        await _seed_people(conn, org)
        await _seed_sources(conn)
        await _seed_openai_round(conn, org)
        await _seed_anthropic_round(conn, org)
        after: int = await conn.fetchval(_ROWS)
    return after - before


async def _seed_organizations(conn: Connection) -> dict[str, uuid.UUID]:
    for o in _ORGANIZATIONS:
        await conn.execute(
            """
            insert into organizations
                (id, slug, name, description, country_code, website, investor_types)
            values ($1, $2, $3, $4, $5, $6, $7::investor_type[])
            on conflict (slug) do nothing
            """,
            demo_id(f"org:{o.slug}"),
            o.slug,
            o.name,
            o.description,
            o.country_code,
            o.website,
            list(o.investor_types),
        )
    # An import may have created one of these slugs first: use whatever id it has.
    ids = {
        r["slug"]: r["id"]
        for r in await conn.fetch(
            "select slug, id from organizations where slug = any($1::text[])",
            [o.slug for o in _ORGANIZATIONS],
        )
    }
    await conn.executemany(
        "insert into organization_aliases (organization_id, alias) values ($1, $2)"
        " on conflict do nothing",
        [(ids[o.slug], alias) for o in _ORGANIZATIONS for alias in o.aliases],
    )
    return ids


_PEOPLE = [
    ("andy-jassy", "Andy Jassy", "amazon", "CEO"),
    ("sam-altman", "Sam Altman", "openai", "CEO"),
]


async def _seed_people(conn: Connection, org: dict[str, uuid.UUID]) -> None:
    for slug, name, org_slug, title in _PEOPLE:
        await conn.execute(
            "insert into people (id, slug, name) values ($1, $2, $3) on conflict (slug) do nothing",
            demo_id(f"person:{slug}"),
            slug,
            name,
        )
        await conn.execute(
            """
            insert into person_roles (person_id, organization_id, title)
            select id, $2, $3 from people where slug = $1
            on conflict do nothing
            """,
            slug,
            org[org_slug],
            title,
        )


async def _seed_sources(conn: Connection) -> None:
    await conn.executemany(
        """
        insert into sources (id, url, publisher, title, language, published_at, kind)
        values ($1, $2, $3, $4, $5, $6, $7)
        on conflict (id) do nothing
        """,
        [
            # The file names no outlet; the article's own rubric stands in as publisher.
            (
                ARTICLE,
                None,
                "Business Tech (French tech news)",
                "Amazon serait en négociations pour investir 50 milliards de dollars dans OpenAI",
                "fr",
                _ARTICLE_PUBLISHED,
                "PRESS_ANONYMOUS",
            ),
            # Cited by the article; its own date and title are not given there.
            (WSJ, None, "The Wall Street Journal", None, "en", None, "PRESS_ANONYMOUS"),
        ],
    )


async def _insert_claim(
    conn: Connection,
    key: str,
    *,
    source: uuid.UUID,
    round_id: uuid.UUID,
    participation: uuid.UUID | None = None,
    quote: str,
    attribution: str | None = None,
    status: str | None = None,
    stage: str | None = None,
    amount: MoneyEstimate | None = None,
    pre_money: MoneyEstimate | None = None,
    post_money: MoneyEstimate | None = None,
    expected_close: tuple[datetime.date, str] | None = None,
) -> uuid.UUID:
    claim_id = demo_id(f"claim:{key}")
    await conn.execute(
        """
        insert into claims (id, source_id, round_id, participation_id, quote, attribution,
                            status, stage, amount, pre_money_valuation, post_money_valuation,
                            expected_close_on, expected_close_precision, recorded_at)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        on conflict (id) do nothing
        """,
        claim_id,
        source,
        round_id,
        participation,
        quote,
        attribution,
        status,
        stage,
        amount and amount.to_db(),
        pre_money and pre_money.to_db(),
        post_money and post_money.to_db(),
        expected_close and expected_close[0],
        expected_close and expected_close[1],
        _ARTICLE_PUBLISHED,
    )
    return claim_id


async def _insert_participation(
    conn: Connection,
    round_id: uuid.UUID,
    investor: uuid.UUID,
    *,
    amount: MoneyEstimate | None,
    status: str,
    stage: str,
) -> uuid.UUID:
    participation_id = demo_id(f"participation:{round_id}:{investor}")
    await conn.execute(
        """
        insert into participations
            (id, round_id, investor_organization_id, amount, status, stage)
        values ($1, $2, $3, $4, $5, $6)
        on conflict (id) do nothing
        """,
        participation_id,
        round_id,
        investor,
        amount and amount.to_db(),
        status,
        stage,
    )
    return participation_id


async def _insert_event(
    conn: Connection,
    key: str,
    round_id: uuid.UUID,
    *,
    participation: uuid.UUID | None = None,
    status: str,
    stage: str,
    source: uuid.UUID,
    claim: uuid.UUID,
) -> None:
    await conn.execute(
        """
        insert into status_events
            (id, round_id, participation_id, at, status, stage, source_id, claim_id, recorded_at)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $4)
        on conflict (id) do nothing
        """,
        demo_id(f"event:{key}"),
        round_id,
        participation,
        _ARTICLE_PUBLISHED,
        status,
        stage,
        source,
        claim,
    )


async def _seed_openai_round(conn: Connection, org: dict[str, uuid.UUID]) -> None:
    raise_amount, pre_money, post_money = _up_to(100), _about(500), _about(830)
    q1_2026 = (datetime.date(2026, 1, 1), "QUARTER")
    await conn.execute(
        """
        insert into rounds (id, company_id, round_type, reported_label, status, stage,
                            expected_close_on, expected_close_precision,
                            amount, pre_money_valuation, post_money_valuation)
        values ($1, $2, 'SERIES_UNKNOWN', 'tour de table', 'REPORTED', 'IN_TALKS',
                $3, $4, $5, $6, $7)
        on conflict (id) do nothing
        """,
        OPENAI_ROUND,
        org["openai"],
        *q1_2026,
        raise_amount.to_db(),
        pre_money.to_db(),
        post_money.to_db(),
    )
    raise_claim = await _insert_claim(
        conn,
        "openai-raise",
        source=ARTICLE,
        round_id=OPENAI_ROUND,
        quote=_Q_RAISE,
        status="REPORTED",
        stage="IN_TALKS",
        amount=raise_amount,
        pre_money=pre_money,
    )
    await _insert_claim(
        conn,
        "openai-post-money",
        source=ARTICLE,
        round_id=OPENAI_ROUND,
        quote=_Q_AMAZON_50,
        attribution="selon plusieurs sources concordantes",
        post_money=post_money,
    )
    await _insert_claim(
        conn,
        "openai-close",
        source=ARTICLE,
        round_id=OPENAI_ROUND,
        quote=_Q_CLOSE,
        attribution="plusieurs médias spécialisés",
        status="REPORTED",
        expected_close=q1_2026,
    )
    await _insert_event(
        conn,
        "openai-reported",
        OPENAI_ROUND,
        status="REPORTED",
        stage="IN_TALKS",
        source=ARTICLE,
        claim=raise_claim,
    )

    amazon = await _insert_participation(
        conn,
        OPENAI_ROUND,
        org["amazon"],
        amount=_up_to(50),
        status="REPORTED",
        stage="IN_TALKS",
    )
    amazon_claim = await _insert_claim(
        conn,
        "amazon-openai-50",
        source=ARTICLE,
        round_id=OPENAI_ROUND,
        participation=amazon,
        quote=_Q_AMAZON_50,
        attribution="selon plusieurs sources concordantes",
        status="REPORTED",
        stage="IN_TALKS",
        amount=_up_to(50),
    )
    await _insert_claim(
        conn,
        "amazon-openai-wsj",
        source=WSJ,
        round_id=OPENAI_ROUND,
        participation=amazon,
        quote=_Q_WSJ_HALF,
        attribution="d’après le Wall Street Journal, cité par l’article",
        status="REPORTED",
        stage="IN_TALKS",
    )
    await _insert_event(
        conn,
        "amazon-openai-reported",
        OPENAI_ROUND,
        participation=amazon,
        status="REPORTED",
        stage="IN_TALKS",
        source=ARTICLE,
        claim=amazon_claim,
    )

    negotiators_claim = await _insert_claim(
        conn,
        "openai-negotiators",
        source=WSJ,
        round_id=OPENAI_ROUND,
        quote=_Q_NEGOTIATORS,
        attribution="d’après le Wall Street Journal, cité par l’article",
    )
    await conn.execute(
        """
        insert into round_negotiators (round_id, person_id, organization_id, claim_id)
        select $1, p.id, r.organization_id, $2
        from people p join person_roles r on r.person_id = p.id
        where p.slug = any($3::text[])
        on conflict do nothing
        """,
        OPENAI_ROUND,
        negotiators_claim,
        ["andy-jassy", "sam-altman"],
    )

    for slug in ("nvidia", "microsoft", "softbank", "middle-east-sovereign-wealth-funds"):
        participation = await _insert_participation(
            conn, OPENAI_ROUND, org[slug], amount=None, status="REPORTED", stage="IN_TALKS"
        )
        claim = await _insert_claim(
            conn,
            f"{slug}-openai",
            source=ARTICLE,
            round_id=OPENAI_ROUND,
            participation=participation,
            quote=_Q_OTHERS,
            status="REPORTED",
            stage="IN_TALKS",
        )
        await _insert_event(
            conn,
            f"{slug}-openai-reported",
            OPENAI_ROUND,
            participation=participation,
            status="REPORTED",
            stage="IN_TALKS",
            source=ARTICLE,
            claim=claim,
        )


async def _seed_anthropic_round(conn: Connection, org: dict[str, uuid.UUID]) -> None:
    amount = _at_least(8)
    await conn.execute(
        """
        insert into rounds (id, company_id, round_type, reported_label, status, stage, amount)
        values ($1, $2, 'CORPORATE', 'investissement', 'CONFIRMED', 'CLOSED', $3)
        on conflict (id) do nothing
        """,
        ANTHROPIC_ROUND,
        org["anthropic"],
        amount.to_db(),
    )
    participation = await _insert_participation(
        conn, ANTHROPIC_ROUND, org["amazon"], amount=amount, status="CONFIRMED", stage="CLOSED"
    )
    round_claim = await _insert_claim(
        conn,
        "anthropic-amazon",
        source=ARTICLE,
        round_id=ANTHROPIC_ROUND,
        quote=_Q_ANTHROPIC,
        status="CONFIRMED",
        stage="CLOSED",
        amount=amount,
    )
    participation_claim = await _insert_claim(
        conn,
        "anthropic-amazon-participation",
        source=ARTICLE,
        round_id=ANTHROPIC_ROUND,
        participation=participation,
        quote=_Q_ANTHROPIC,
        status="CONFIRMED",
        stage="CLOSED",
        amount=amount,
    )
    await _insert_event(
        conn,
        "anthropic-amazon-confirmed",
        ANTHROPIC_ROUND,
        status="CONFIRMED",
        stage="CLOSED",
        source=ARTICLE,
        claim=round_claim,
    )
    await _insert_event(
        conn,
        "anthropic-amazon-participation-confirmed",
        ANTHROPIC_ROUND,
        participation=participation,
        status="CONFIRMED",
        stage="CLOSED",
        source=ARTICLE,
        claim=participation_claim,
    )
