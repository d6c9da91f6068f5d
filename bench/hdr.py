"""Percentiles of a kload --json result, decoded from its HDR histograms (bench scripts only).

usage: hdr.py RESULT.json   -> one JSON object: requests, latency p50/p90/p99/max (µs) of the
aggregated row (plain and, when present, corrected), and the generator's lateness.
"""
import json
import sys

from hdrh.histogram import HdrHistogram


def stats(encoded):
    if not encoded:
        return None
    h = HdrHistogram.decode(encoded)
    if h.get_total_count() == 0:
        return None
    return {
        "count": h.get_total_count(),
        "p50_us": h.get_value_at_percentile(50),
        "p90_us": h.get_value_at_percentile(90),
        "p99_us": h.get_value_at_percentile(99),
        "max_us": h.get_max_value(),
    }


result = json.load(open(sys.argv[1]))
total = result["aggregated"]
print(json.dumps({
    "requests": total["requests"],
    "failures": total["failures"],
    "latency": stats(total["latency"]),
    "corrected": stats(total.get("corrected")),
    "lateness": stats(result.get("generator", {}).get("lateness")),
    "dropped_iterations": result.get("dropped_iterations", 0),
}))
