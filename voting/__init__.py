"""The voting domain every part of Spilno agrees on. Pure Python: no I/O, no Flask.

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
from .funding import FundingLine, FundingOutcome, allocate
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
    "CategoryRule",
    "CategoryStatus",
    "Channel",
    "CountingInput",
    "Decision",
    "FundingLine",
    "FundingOutcome",
    "IdentityError",
    "IdentityKind",
    "Problem",
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
    "format_time",
    "message",
    "normalise_identifier",
    "tally",
]
