"""GraphQL enums; each value is spelled as in the database, so rows map by name."""

from enum import Enum

import strawberry


@strawberry.enum(description="Whether a fact is only reported, or confirmed by a party.")
class DealStatus(Enum):
    REPORTED = "REPORTED"
    CONFIRMED = "CONFIRMED"
    DENIED = "DENIED"
    RETRACTED = "RETRACTED"


@strawberry.enum(description="How far the deal has gone.")
class DealStage(Enum):
    IN_TALKS = "IN_TALKS"
    ANNOUNCED = "ANNOUNCED"
    CLOSED = "CLOSED"
    ABANDONED = "ABANDONED"


@strawberry.enum(description="How to read an amount: exactly, about, up to, at least, a range.")
class AmountQualifier(Enum):
    EXACT = "EXACT"
    ABOUT = "ABOUT"
    UP_TO = "UP_TO"
    AT_LEAST = "AT_LEAST"
    RANGE = "RANGE"


@strawberry.enum(description="How precisely a date is known.")
class DatePrecision(Enum):
    DAY = "DAY"
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


@strawberry.enum
class RoundType(Enum):
    PRE_SEED = "PRE_SEED"
    SEED = "SEED"
    ANGEL = "ANGEL"
    SERIES_A = "SERIES_A"
    SERIES_B = "SERIES_B"
    SERIES_C = "SERIES_C"
    SERIES_D = "SERIES_D"
    SERIES_E_PLUS = "SERIES_E_PLUS"
    SERIES_UNKNOWN = "SERIES_UNKNOWN"
    CORPORATE = "CORPORATE"
    PRIVATE_EQUITY = "PRIVATE_EQUITY"
    DEBT = "DEBT"
    CONVERTIBLE = "CONVERTIBLE"
    GRANT = "GRANT"
    EQUITY_CROWDFUNDING = "EQUITY_CROWDFUNDING"
    SECONDARY = "SECONDARY"
    POST_IPO = "POST_IPO"
    OTHER = "OTHER"


@strawberry.enum(description="What kind of document a source is.")
class SourceKind(Enum):
    PRESS_ANONYMOUS = "PRESS_ANONYMOUS"
    PRESS_ON_RECORD = "PRESS_ON_RECORD"
    COMPANY_STATEMENT = "COMPANY_STATEMENT"
    INVESTOR_STATEMENT = "INVESTOR_STATEMENT"
    REGULATORY_FILING = "REGULATORY_FILING"
    DATA_VENDOR = "DATA_VENDOR"


@strawberry.enum
class InvestorType(Enum):
    VENTURE_CAPITAL = "VENTURE_CAPITAL"
    CORPORATE = "CORPORATE"
    SOVEREIGN_WEALTH_FUND = "SOVEREIGN_WEALTH_FUND"
    PRIVATE_EQUITY = "PRIVATE_EQUITY"
    ANGEL_GROUP = "ANGEL_GROUP"
    ACCELERATOR = "ACCELERATOR"
    BANK = "BANK"
    FAMILY_OFFICE = "FAMILY_OFFICE"
    HEDGE_FUND = "HEDGE_FUND"
    GOVERNMENT = "GOVERNMENT"
    OTHER = "OTHER"


@strawberry.enum
class RoundOrderField(Enum):
    ANNOUNCED_ON = "ANNOUNCED_ON"
    AMOUNT_USD = "AMOUNT_USD"


@strawberry.enum
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum(description="What an organization did: raised money, or invested it.")
class OrganizationRole(Enum):
    RAISED = "RAISED"
    INVESTED = "INVESTED"


@strawberry.enum(description="How an acquisition is paid for.")
class AcquisitionTerms(Enum):
    CASH = "CASH"
    STOCK = "STOCK"
    MIXED = "MIXED"


@strawberry.enum
class AcquisitionOrderField(Enum):
    ANNOUNCED_ON = "ANNOUNCED_ON"
    PRICE_USD = "PRICE_USD"
