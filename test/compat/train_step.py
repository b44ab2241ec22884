"""Proof that tracepipe's outputs train: loads every output of a run with Hugging Face `datasets`,
checks the column types TRL needs, then runs ONE optimiser step each of TRL's SFTTrainer (sft),
DPOTrainer (preference, conversational; step_preference, plain text) and PRMTrainer (stepwise)
on a tiny randomly initialised Llama (2 layers, hidden 32) with a BPE tokenizer trained on the
spot from the data. CPU only, offline: no model or tokenizer is downloaded.

Usage: train_step.py <run_dir> [--rows N]. Prints one JSON line per dataset, then `compat: OK`.
Exits 1 with `compat FAILED: <dataset>: ...` naming the dataset and the column (or trainer) at fault.
"""
import argparse
import glob
import json
import math
import os
import sys
import tempfile
import time
import warnings

for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

import pyarrow as pa  # noqa: E402
from datasets import load_dataset  # noqa: E402

MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
STRING_LIST = pa.list_(pa.string())
# The columns each trainer reads, with the Arrow types TRL expects (list item names are not compared).
EXPECTED = {
    "sft": {"messages": MESSAGES},
    "preference": {"prompt": MESSAGES, "chosen": MESSAGES, "rejected": MESSAGES},
    "step_preference": {c: pa.string() for c in ["prompt", "initial_reason_steps", "chosen", "rejected", "full_chosen", "full_rejected", "chosen_source"]},
    "stepwise": {"prompt": pa.string(), "completions": STRING_LIST, "labels": pa.list_(pa.bool_())},
    "process_eval": {"id": pa.string(), "problem": pa.string(), "steps": STRING_LIST, "label": pa.int32(), "final_answer_correct": pa.bool_()},
}
TRACE = ["problem_id", "path_id", "domain", "PC", "GC", "region", "model", "run_id"]
SPECIAL = ["<pad>", "<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] + '</s>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


class CompatError(Exception):
    pass


def same_type(got, want):
    if pa.types.is_list(want) or pa.types.is_large_list(want):
        return (pa.types.is_list(got) or pa.types.is_large_list(got)) and same_type(got.value_type, want.value_type)
    if pa.types.is_struct(want):
        return pa.types.is_struct(got) and [f.name for f in got] == [f.name for f in want] and all(same_type(got.field(f.name).type, f.type) for f in want)
    if pa.types.is_string(want):
        return pa.types.is_string(got) or pa.types.is_large_string(got)
    return got == want


def load(run_dir, name):
    """Loads one output with `datasets` and checks its columns; raises CompatError naming the column."""
    files = sorted(glob.glob(os.path.join(run_dir, "latest", name, "part-*.parquet")))
    if not files:
        raise CompatError(f"{name}: no part-*.parquet files in {run_dir}/latest/{name}")
    ds = load_dataset("parquet", data_files=files, split="train")
    schema = ds.data.schema
    for col, want in EXPECTED[name].items():
        if col not in schema.names:
            raise CompatError(f"{name}: column {col} is missing (columns: {', '.join(schema.names)})")
        got = schema.field(col).type
        if not same_type(got, want):
            raise CompatError(f"{name}: column {col} should be {want}, got {got}")
    missing = [c for c in TRACE if c not in schema.names]
    if missing:
        raise CompatError(f"{name}: trace columns missing: {', '.join(missing)}")
    return ds


def texts(datasets):
    """Every string of every output, for training the tokenizer."""
    for ds in datasets.values():
        for row in ds:
            for v in row.values():
                if isinstance(v, str):
                    yield v
                elif isinstance(v, list):
                    for x in v:
                        if isinstance(x, str):
                            yield x
                        elif isinstance(x, dict):
                            yield str(x.get("content", ""))


def make_tokenizer(datasets):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1024, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts(datasets), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", additional_special_tokens=SPECIAL[4:])
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_config(tokenizer):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
        max_position_embeddings=1024, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
    )


def common_args(out):
    return dict(output_dir=out, max_steps=1, per_device_train_batch_size=2, gradient_accumulation_steps=1, learning_rate=1e-3, logging_steps=1,
                report_to="none", save_strategy="no", use_cpu=True, dataloader_num_workers=0, disable_tqdm=True, seed=0)


def one_step(name, trainer):
    """Runs the trainer's single step and returns the logged loss; a missing or non-finite loss fails."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    try:
        trainer.train()
    except Exception as e:  # the dataset is what is under test: name it
        raise CompatError(f"{name}: {type(trainer).__name__} failed on this output: {type(e).__name__}: {e}") from e
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    if trainer.state.global_step != 1 or not losses or not math.isfinite(losses[0]):
        raise CompatError(f"{name}: {type(trainer).__name__} did not take one finite step (step {trainer.state.global_step}, losses {losses})")
    return losses[0]


def train(name, ds, tokenizer, out):
    import torch
    from transformers import LlamaForCausalLM, LlamaForTokenClassification
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer
    from trl.experimental.prm import PRMConfig, PRMTrainer

    torch.manual_seed(0)
    cfg = tiny_config(tokenizer)
    args = common_args(os.path.join(out, name))
    # The dataset goes in as published, trace columns and all. A run with figures keeps an `images`
    # column, which TRL reads as vision data: only then is it dropped, for this text-only model.
    if "images" in ds.column_names:
        ds = ds.remove_columns(["images"])
    if name == "sft":
        trainer = SFTTrainer(model=LlamaForCausalLM(cfg), args=SFTConfig(**args, max_length=512), train_dataset=ds, processing_class=tokenizer)
    elif name in ("preference", "step_preference"):
        # A model object has no path for DPO to load its reference copy from, so the reference is given.
        model = LlamaForCausalLM(cfg)
        ref = LlamaForCausalLM(cfg)
        ref.load_state_dict(model.state_dict())
        trainer = DPOTrainer(model=model, ref_model=ref, args=DPOConfig(**args, max_length=512), train_dataset=ds, processing_class=tokenizer)
    else:
        trainer = PRMTrainer(model=LlamaForTokenClassification(tiny_config(tokenizer).__class__(**{**cfg.to_dict(), "num_labels": 2})), args=PRMConfig(**args, max_length=512, step_separator="\n"), train_dataset=ds, processing_class=tokenizer)
    return one_step(name, trainer)


def quiet():
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir")
    p.add_argument("--rows", type=int, default=16, help="rows per dataset used for the training step (all rows are loaded and checked)")
    a = p.parse_args(argv)
    t0 = time.time()
    quiet()
    try:
        datasets = {name: load(a.run_dir, name) for name in EXPECTED}
        for name, ds in datasets.items():
            if len(ds) == 0 and name != "process_eval":
                raise CompatError(f"{name}: has no rows, so no training step can prove it trains; use a larger run")
        tokenizer = make_tokenizer(datasets)
        with tempfile.TemporaryDirectory(prefix="tracepipe-compat-") as out:
            for name, ds in datasets.items():
                t = time.time()
                row = {"dataset": name, "rows": len(ds), "features": {k: str(v) for k, v in ds.features.items() if k in EXPECTED[name]}}
                if "images" in ds.column_names:
                    # TRL takes any `images` column as vision data and refuses a text-only model, so it is dropped here (see train()).
                    row["note"] = f"images column dropped for this text-only model ({sum(1 for x in ds['images'] if x)} rows have images)"
                if name != "process_eval":
                    row["trainer_loss"] = round(train(name, ds.select(range(min(len(ds), a.rows))), tokenizer, out), 4)
                row["seconds"] = round(time.time() - t, 2)
                print(json.dumps(row), flush=True)
    except CompatError as e:
        print(f"compat FAILED: {e}", file=sys.stderr)
        return 1
    print(f"compat: OK ({len(datasets)} outputs loaded with datasets; one step each of SFT, DPO x2, PRM; vocab {len(tokenizer)}; {time.time() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
