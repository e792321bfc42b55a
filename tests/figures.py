"""Figures the tests measure (fuzz cases run, replica lag), printed at the end of the run
whatever pytest's verbosity, so that a CI log shows them."""

_recorded: list[str] = []


def record(line: str) -> None:
    _recorded.append(line)


def recorded() -> list[str]:
    return list(_recorded)
