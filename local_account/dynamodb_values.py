"""DynamoDB's Number and String values as DynamoDB holds them, which moto does not do.

Numbers: moto keeps the text as sent.

AWS: "Numbers can have up to 38 digits of precision. Exceeding this results in an exception",
"Positive range: 1E-130 to 9.9999999999999999999999999999999999999E+125" (and the same negated),
"Leading and trailing zeroes are trimmed"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number).
So ``20.00`` is stored, and read back, as ``20``. AWS does not document the form of a number written
with an exponent; it is stored here in positional notation (``1E+2`` reads back as ``100``), the form
the trimming rule implies, and a test fixes that choice.

Strings: "Strings are Unicode with UTF-8 binary encoding" (the same page). An unpaired UTF-16 surrogate,
which JSON can escape (``"\\ud800"``), has no UTF-8 form: moto failed on it part way through a write
(500, with the attributes before it stored). Here it is refused as a ValidationException before
anything is written; AWS does not document its answer to such a request.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal
from typing import Any

from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models.dynamo_type import DynamoType

from .patching import Patcher

_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
_WIDE = Context(prec=200)  # wider than any number DynamoDB holds, so normalize() never rounds
MAX_DIGITS = 38
MAX_MAGNITUDE = 125
MIN_MAGNITUDE = -130


def canonical(text: str) -> str:
    """The number as DynamoDB stores it, or a ValidationException with DynamoDB's wording."""
    if not isinstance(text, str) or not _NUMBER.fullmatch(text):
        raise MockValidationException("A value provided cannot be converted into a number")
    value = Decimal(text).normalize(_WIDE)
    if value.is_zero():
        return "0"
    _, digits, _ = value.as_tuple()
    if len(digits) > MAX_DIGITS:
        raise MockValidationException("Attempting to store more than 38 significant digits in a Number")
    if value.adjusted() > MAX_MAGNITUDE:
        raise MockValidationException(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if value.adjusted() < MIN_MAGNITUDE:
        raise MockValidationException(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    return format(value, "f")


def utf8(text: str) -> str:
    """The string, when UTF-8 can hold it; else a ValidationException."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MockValidationException(
            "One or more parameter values were invalid: a string is not valid Unicode"
        ) from None
    return text


def hold_values_as_dynamodb_does(patcher: Patcher) -> None:
    """Every Number (N, NS) that moto builds is held in DynamoDB's form; every String (S, SS) is UTF-8."""
    build = DynamoType.__init__

    def as_dynamodb_holds(self: Any, type_as_dict: Any) -> None:
        build(self, type_as_dict)
        if self.type == "N" and isinstance(self.value, str):
            self.value = canonical(self.value)
        elif self.type == "NS" and isinstance(self.value, list):
            self.value = [canonical(member) for member in self.value]
        elif self.type == "S" and isinstance(self.value, str):
            utf8(self.value)
        elif self.type == "SS" and isinstance(self.value, list):
            for member in self.value:
                utf8(member)

    patcher.replace(DynamoType, "__init__", as_dynamodb_holds)
