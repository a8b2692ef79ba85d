"""Rebuild sample_data/monthly_zh_gbk.csv from sample_data/monthly.csv.

The header is translated through mappings/chinese_headers.yaml (contract column -> Chinese
header) and the file is encoded GBK, as a Chinese core-banking export would be. The rows are
copied byte for byte (only the encoding changes), so the two files hold the same data.

    .venv/bin/python mappings/make_zh_sample.py
"""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    mapping = yaml.safe_load((ROOT / "mappings" / "chinese_headers.yaml").read_text(encoding="utf-8"))["columns"]
    to_chinese = {contract: chinese for chinese, contract in mapping.items()}
    text = (ROOT / "sample_data" / "monthly.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    header = ",".join(to_chinese[name] for name in header.strip().split(","))
    (ROOT / "sample_data" / "monthly_zh_gbk.csv").write_bytes((header + "\n" + rest).encode("gbk"))


if __name__ == "__main__":
    main()
