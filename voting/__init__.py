"""The voting domain every part of Spilno agrees on. Pure Python: no Flask, no database;
its one read is its own message catalog (translations/, package data).

Ballot rules, the canonical vote record and its hash, voter keys, which vote counts,
and which projects are funded.
"""

from .ballot import (
    Ballot,
    BallotProject,
    CategoryRule,
    CategoryStatus,
    Problem,
    check_ballot_rule,
    check_category_rule,
)
from .channels import Channel, channel_label
from .counting import (
    CountingInput,
    Decision,
    VoteStatus,
    decide,
    decide_for_voter,
    tally,
)
from .funding import (
    CategoryFunding,
    Comparison,
    EqualSharesRound,
    FundingLine,
    FundingOutcome,
    allocate,
    fund_category,
)
from .funding_explain import explain, explanation
from .funding_plan import fund_ballot
from .funding_rules import FundingMethod, TieBreak
from .identity import (
    IdentityError,
    IdentityKind,
    VoterKey,
    community_voter_secret,
    normalise_identifier,
)
from .messages import message
from .record import VoteRecord, canonical_vote_id, format_time

__all__ = [
    "Ballot",
    "BallotProject",
    "CategoryFunding",
    "CategoryRule",
    "CategoryStatus",
    "Channel",
    "Comparison",
    "CountingInput",
    "Decision",
    "EqualSharesRound",
    "FundingLine",
    "FundingMethod",
    "FundingOutcome",
    "IdentityError",
    "IdentityKind",
    "Problem",
    "TieBreak",
    "VoteRecord",
    "VoteStatus",
    "VoterKey",
    "allocate",
    "canonical_vote_id",
    "channel_label",
    "check_ballot_rule",
    "check_category_rule",
    "community_voter_secret",
    "decide",
    "decide_for_voter",
    "explain",
    "explanation",
    "format_time",
    "fund_ballot",
    "fund_category",
    "message",
    "normalise_identifier",
    "tally",
]
