"""Cheaper parsing of AWS answers, with the same results as botocore's own parsers.

With many small files in flight, scar's transfers are bound by the client's CPU (one core: the GIL), and
botocore spends a fifth of it turning an S3 answer into a dict: dateutil parses every timestamp with a
general-purpose tokenizer, and the REST-XML parser looks up each of the ~60 header members of GetObject's
output in a case-insensitive dict, whatever the answer holds. Here the two formats AWS sends (RFC 1123 in
headers, ISO 8601 in bodies) are read by one regular expression each, and the header members of an output
shape are matched against the answer's headers through one lower-case index per shape, built once.
Anything else goes to botocore unchanged.
"""

from __future__ import annotations

import datetime
import re
import weakref
from typing import Any

from botocore.parsers import PROTOCOL_PARSERS, ResponseParserFactory, RestXMLParser
from botocore.utils import parse_timestamp as botocore_parse_timestamp
from dateutil.tz import tzutc

_UTC = tzutc()  # the tzinfo botocore's parser gives AWS timestamps, so results compare and print the same
_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_RFC1123 = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT")
_ISO8601 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z")


def parse_timestamp(value: Any) -> datetime.datetime:
    """A timestamp as botocore parses it (an aware datetime in UTC); the two usual formats without dateutil."""
    if isinstance(value, str):
        try:
            if match := _RFC1123.fullmatch(value):
                day, month, year, hour, minute, second = match.groups()
                if month in _MONTHS:
                    return datetime.datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute),
                                             int(second), tzinfo=_UTC)
            elif match := _ISO8601.fullmatch(value):
                year, month, day, hour, minute, second, fraction = match.groups()
                return datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                                         int((fraction or "0").ljust(6, "0")), tzinfo=_UTC)
        except ValueError:  # out of range (a 31st of June, hour 24): botocore says why
            pass
    return botocore_parse_timestamp(value)


class _HeaderMember:
    __slots__ = ("header", "location", "name", "shape")

    def __init__(self, name: str, shape: Any) -> None:
        self.name = name
        self.shape = shape
        self.location = shape.serialization.get("location")
        self.header = shape.serialization.get("name", name).lower()


class IndexedRestXMLParser(RestXMLParser):
    """botocore's REST-XML parser with the header members of each output shape listed once (by the factory,
    shared by all its parsers): an answer's headers are then read through a plain lower-case dict."""

    def __init__(self, members: weakref.WeakKeyDictionary[Any, list[_HeaderMember]], **defaults: Any) -> None:
        super().__init__(**defaults)
        self._members = members

    def _parse_non_payload_attrs(self, response: dict[str, Any], shape: Any, member_shapes: dict[str, Any],
                                 final_parsed: dict[str, Any]) -> None:
        members = self._members.get(shape)
        if members is None:
            described = (_HeaderMember(name, member) for name, member in member_shapes.items())
            members = self._members[shape] = [member for member in described if member.location is not None]
        headers = response["headers"]
        lowered = {name.lower(): value for name, value in headers.items()}
        for member in members:
            if member.location == "header":
                if member.header in lowered:
                    final_parsed[member.name] = self._parse_shape(member.shape, lowered[member.header])
            elif member.location == "headers":
                final_parsed[member.name] = self._parse_header_map(member.shape, headers)
            elif member.location == "statusCode":
                final_parsed[member.name] = self._parse_shape(member.shape, response["status_code"])


class FastResponseParserFactory(ResponseParserFactory):
    """botocore's parser factory, with `parse_timestamp` as the default timestamp parser and the indexed
    REST-XML parser (botocore makes a parser per answer; the index outlives them here)."""

    def __init__(self) -> None:
        super().__init__()
        self._members: weakref.WeakKeyDictionary[Any, list[_HeaderMember]] = weakref.WeakKeyDictionary()
        self._parser_defaults: dict[str, Any] = {}
        self.set_parser_defaults(timestamp_parser=parse_timestamp)

    def set_parser_defaults(self, **kwargs: Any) -> None:
        super().set_parser_defaults(**kwargs)
        self._parser_defaults.update(kwargs)

    def create_parser(self, protocol_name: str) -> Any:
        if PROTOCOL_PARSERS[protocol_name] is RestXMLParser:
            return IndexedRestXMLParser(self._members, **self._parser_defaults)
        return super().create_parser(protocol_name)
