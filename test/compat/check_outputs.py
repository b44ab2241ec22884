"""Reads every tracepipe output with pyarrow and Hugging Face `datasets`, as a user would.

Usage: check_outputs.py <run_dir>. Reads the snapshot `latest` names, part files one by one
and as one Hugging Face dataset repository (`load_dataset(<run_dir>/latest, "<name>")`, one
config per dataset in its README). Prints one JSON object: per dataset, rows and column types
as pyarrow and `datasets` see them. Exits 1 with a message naming the dataset and column when
a column does not have the type TRL expects.
"""
import glob
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import load_dataset

MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
EXPECTED = {
    "sft": {"messages": MESSAGES},
    "preference": {"prompt": MESSAGES, "chosen": MESSAGES, "rejected": MESSAGES},
    "step_preference": {c: pa.string() for c in ["prompt", "initial_reason_steps", "chosen", "rejected", "full_chosen", "full_rejected", "chosen_source"]},
    "stepwise": {"prompt": pa.string(), "completions": pa.list_(pa.string()), "labels": pa.list_(pa.bool_())},
    "process_eval": {"id": pa.string(), "problem": pa.string(), "steps": pa.list_(pa.string()), "label": pa.int32(), "final_answer_correct": pa.bool_()},
}
TRACE = ["problem_id", "path_id", "domain", "PC", "GC", "region", "model", "run_id"]


def same_type(got, want):
    # pyarrow names list items "element" (Parquet) or "item"; compare structure, not names.
    if pa.types.is_list(want):
        return pa.types.is_list(got) and same_type(got.value_type, want.value_type)
    if pa.types.is_struct(want):
        return pa.types.is_struct(got) and [f.name for f in got] == [f.name for f in want] and all(same_type(got.field(f.name).type, f.type) for f in want)
    return got == want


def main(run_dir):
    report, errors = {}, []
    for name, cols in EXPECTED.items():
        files = sorted(glob.glob(os.path.join(run_dir, "latest", name, "part-*.parquet")))
        if not files:
            errors.append(f"{name}: no part-*.parquet files in {run_dir}/latest/{name}")
            continue
        table = pa.concat_tables([pq.read_table(f) for f in files])
        for col, want in cols.items():
            if col not in table.column_names:
                errors.append(f"{name}: column {col} is missing")
            elif not same_type(table.schema.field(col).type, want):
                errors.append(f"{name}: column {col} should be {want}, got {table.schema.field(col).type}")
        for col in TRACE:
            if col not in table.column_names:
                errors.append(f"{name}: trace column {col} is missing")
        ds = load_dataset("parquet", data_files=files, split="train")
        if len(ds) != table.num_rows:
            errors.append(f"{name}: datasets read {len(ds)} rows, pyarrow {table.num_rows}")
        repo = load_dataset(os.path.join(run_dir, "latest"), name, split="train")
        if len(repo) != table.num_rows:
            errors.append(f"{name}: load_dataset(latest, {name!r}) read {len(repo)} rows, pyarrow {table.num_rows}")
        if len(ds) and "messages" in ds.column_names:
            first = ds[0]["messages"]
            if not (isinstance(first, list) and set(first[0].keys()) == {"role", "content"}):
                errors.append(f"{name}: datasets gives messages as {type(first).__name__}, expected a list of {{role, content}}")
        report[name] = {"rows": table.num_rows, "features": {k: str(v) for k, v in ds.features.items() if k in cols}}
    print(json.dumps({"datasets": report, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
