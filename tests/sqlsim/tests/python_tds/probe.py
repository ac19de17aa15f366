"""Runs SQL against a TDS server with python-tds, a client sqlmig did not write, and reports what
that client read: column names, TDS type codes, precision and scale as the column metadata
declares them, values, and the server's errors.

Input (stdin): {"server": "127.0.0.1", "port": N, "user": "...", "password": "...",
"cases": [{"sql": "...", "params": [...]}]}. A parameter {"binary": "00ff"} is sent as varbinary
(python-tds sends a bare bytes value as varchar).

Output (stdout): {"login_error": ERROR} or {"results": [...]}, one per case:
{"sets": [{"columns": [[name, type_code, precision, scale], ...], "rows": [[value, ...], ...]},
...], "error": ERROR}, the result sets read before the error if there is one, where ERROR is
{"number": N, "severity": N, "line": N, "text": "..."}. Values as text: a Decimal as its digits,
datetimes in ISO form, bytes in hex.
"""
import datetime
import decimal
import json
import sys
import uuid

import pytds


def as_text(v):
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    return v


def param(p):
    if isinstance(p, dict) and "binary" in p:
        return pytds.Binary(bytes.fromhex(p["binary"]))
    return p


def main():
    job = json.load(sys.stdin)
    try:
        conn = pytds.connect(
            server=job["server"],
            port=job["port"],
            user=job["user"],
            password=job["password"],
            database="master",
            autocommit=True,
            login_timeout=10,
        )
    except pytds.Error as e:
        json.dump({"login_error": error(e)}, sys.stdout)
        return
    out = []
    with conn.cursor() as cur:
        for case in job["cases"]:
            result = {"sets": []}
            try:
                params = [param(p) for p in case.get("params", [])]
                cur.execute(case["sql"], tuple(params) if params else None)
                while True:
                    if cur.description:
                        columns = [[d[0], d[1], d[4], d[5]] for d in cur.description]
                        rows = [[as_text(v) for v in r] for r in cur.fetchall()]
                        result["sets"].append({"columns": columns, "rows": rows})
                    if not cur.nextset():
                        break
            except pytds.Error as e:
                result["error"] = error(e)
            out.append(result)
    json.dump({"results": out}, sys.stdout)


def error(e):
    return {"number": e.number, "severity": e.severity, "line": e.line, "text": e.text}


main()
