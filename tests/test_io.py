"""Reading exports: every file-level error is one clear exit-2 message, encodings and mappings read alike.

Fixtures are tiny files written to tmp_path. A CSV fixture is written with the columns that
matter for the test; `write_csv` adds the other required contract columns as blank cells at the
end of each line, so the text in the test is the file the user would see (same line numbers).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from covidbank_kpi.errors import InputFileError
from covidbank_kpi.io import read_export
from covidbank_kpi.schema import CONTRACT_COLUMNS, REQUIRED_COLUMNS
from covidbank_kpi.validate import validate

from .conftest import kpi, padded

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "monthly.csv"
SAMPLE_ZH = ROOT / "sample_data" / "monthly_zh_gbk.csv"
ZH_MAPPING = ROOT / "mappings" / "chinese_headers.yaml"


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(padded(text).encode(encoding))
    return path


def contract_table(**columns) -> pa.Table:
    """A Parquet-ready table: the given columns, every other required column null."""
    n = len(next(iter(columns.values())))
    data = {c: columns.get(c, pa.nulls(n, pa.string())) for c in REQUIRED_COLUMNS}
    data.update(columns)
    return pa.table(data)


# --- file-level errors --------------------------------------------------------------------


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "nope.csv"
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("kpi: error: ")
    assert f"{path}: file not found" in result.stderr


@pytest.mark.parametrize("content", [b"", b"  \n\n"], ids=["zero-bytes", "whitespace"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "monthly.csv"
    path.write_bytes(content)
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}: the file is empty" in result.stderr


@pytest.mark.parametrize("tail", ["\n", "", "\n\n\n"], ids=["newline", "no-newline", "blank-lines"])
def test_header_only(tmp_path, tail):
    path = tmp_path / "monthly.csv"
    path.write_text(",".join(CONTRACT_COLUMNS) + tail, encoding="utf-8")
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}: the file has a header but no rows" in result.stderr


def test_a_folder_is_not_a_file(tmp_path):
    result = kpi("validate", tmp_path)
    assert result.exit_code == 2
    assert "this is a folder, not a file" in result.stderr


def test_excel_workbook_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    path = tmp_path / "monthly.xlsx"
    path.write_bytes(buffer.getvalue())
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}: not a CSV or Parquet file (it looks like an Excel workbook or a zip archive)" in result.stderr
    assert ".csv" in result.stderr and ".parquet" in result.stderr


def test_workbook_renamed_to_csv_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("xl/workbook.xml", "<workbook/>")
    path = tmp_path / "monthly.csv"
    path.write_bytes(buffer.getvalue())
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert "not a CSV or Parquet file (it holds binary data)" in result.stderr


def test_json_is_refused(tmp_path):
    path = tmp_path / "monthly.json"
    path.write_text('[{"period": "2020-01", "branch_id": "0001"}]', encoding="utf-8")
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}: not a CSV or Parquet file (it looks like JSON)" in result.stderr


def test_random_bytes_named_parquet(tmp_path):
    path = tmp_path / "monthly.parquet"
    path.write_bytes(os.urandom(2048).replace(b"PAR1", b"XXXX"))
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}: not a valid Parquet file" in result.stderr


def test_truncated_parquet(tmp_path):
    whole = tmp_path / "whole.parquet"
    pq.write_table(contract_table(period=pa.array(["2020-01"] * 50), branch_id=pa.array([f"{i:04d}" for i in range(50)])),
                   whole)
    data = whole.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    result = kpi("validate", cut)
    assert result.exit_code == 2
    assert f"{cut}: the Parquet file is truncated (its footer is missing)" in result.stderr
    assert kpi("validate", whole).exit_code == 0


def test_parquet_with_a_damaged_page(tmp_path):
    path = tmp_path / "monthly.parquet"
    pq.write_table(contract_table(period=pa.array(["2020-01"] * 50), branch_id=pa.array([f"{i:04d}" for i in range(50)])),
                   path)
    data = bytearray(path.read_bytes())
    data[4:200] = b"\xff" * 196  # keeps both PAR1 magics, breaks the first column chunk
    path.write_bytes(bytes(data))
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}: the Parquet file is corrupt" in result.stderr


def test_missing_column_suggests_the_closest_header(tmp_path):
    # every required column present but one, which is misspelt
    header = ",".join(REQUIRED_COLUMNS).replace("txn_online", "txn_onlin")
    path = tmp_path / "monthly.csv"
    path.write_text(header + "\n2020-01,0001,5,10" + "," * (len(REQUIRED_COLUMNS) - 4) + "\n", encoding="utf-8")
    assert path.read_text(encoding="utf-8").startswith("period,branch_id,txn_onlin,txn_total,")
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}: required column 'txn_online' is missing" in result.stderr
    assert "The file has 'txn_onlin': rename it to 'txn_online', or map it with --mapping" in result.stderr


def test_missing_columns_are_counted(tmp_path):
    path = tmp_path / "monthly.csv"
    path.write_text("period,branch_id,branch_name\n2020-01,0001,x\n", encoding="utf-8")
    result = kpi("validate", path)
    assert result.exit_code == 2
    # 20 measures are required; the first is named, the other 19 counted
    assert "required column 'txn_online' is missing (and 19 more: txn_total, health_checks_passed" in result.stderr
    assert "Add the column (its cells may be blank)" in result.stderr


def test_missing_column_in_parquet(tmp_path):
    path = tmp_path / "monthly.parquet"
    table = contract_table(period=pa.array(["2020-01"]), branch_id=pa.array(["0001"]))
    pq.write_table(table.drop_columns(["branch_id"]), path)
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}: required column 'branch_id' is missing" in result.stderr


def test_header_naming_a_column_twice(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", "period,branch_id,period\n2020-01,0001,2020-01\n")
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert "the header names 'period' more than once" in result.stderr


def test_gbk_file_read_as_utf8_names_the_line(tmp_path):
    path = write_csv(tmp_path / "monthly.csv",
                     "period,branch_id,branch_name\n2020-01,0001,Head office\n2020-01,0002,北京朝阳支行\n",
                     encoding="gbk")
    result = kpi("validate", path, "--encoding", "utf-8")
    assert result.exit_code == 2
    assert f"{path}, line 3: cannot decode the file as utf-8" in result.stderr
    assert "--encoding (utf-8, gbk, gb18030)" in result.stderr


def test_unknown_encoding_name(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", "period,branch_id\n2020-01,0001\n")
    result = kpi("validate", path, "--encoding", "klingon")
    assert result.exit_code == 2
    assert "unknown encoding 'klingon'" in result.stderr


def test_undecodable_bytes_without_a_flag(tmp_path):
    path = tmp_path / "monthly.csv"
    path.write_bytes(padded("period,branch_id,branch_name\n2020-01,0001,x\n").encode() + b"2020-01,0002,\x81\xff\xfe\n")
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}, line 3: cannot decode the file as UTF-8 or GBK/GB18030" in result.stderr


@pytest.mark.parametrize(("body", "line", "fields"), [
    ("2020-01,0001,5,10\n2020-01,0002,5,10,99\n", 3, 5),
    ("2020-01,0001,5,10\n\n2020-01,0002,5,10\n2020-01,0003,5\n", 5, 3),
], ids=["extra-field", "missing-field-after-blank-line"])
def test_wrong_field_count_names_the_line(tmp_path, body, line, fields):
    # no padding here: the row's own field count is what the message reports
    path = tmp_path / "monthly.csv"
    header = ["period", "branch_id", "txn_online", "txn_total"]
    path.write_text(",".join(header) + "\n" + body, encoding="utf-8")
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"{path}, line {line}: the row has {fields} fields but the header has 4" in result.stderr


# --- encodings ----------------------------------------------------------------------------

ZH_TABLE = (
    "period,branch_id,branch_name,region,txn_online,txn_total\n"
    "2020-01,0001,北京朝阳支行,华北,60,100\n"
    "2020-01,0012,上海浦东支行,华东,30,40\n"
    "2020-02,0001,北京朝阳支行,华北,,\n"
)
ZH_ROWS = [
    ("2020-01", "0001", "北京朝阳支行", "华北", "60", "100"),
    ("2020-01", "0012", "上海浦东支行", "华东", "30", "40"),
    ("2020-02", "0001", "北京朝阳支行", "华北", None, None),
]
ZH_COLUMNS = ["period", "branch_id", "branch_name", "region", "txn_online", "txn_total"]


def _rows(export) -> list[tuple]:
    return [tuple(r[c] for c in ZH_COLUMNS) for r in export.table.select(ZH_COLUMNS).to_pylist()]


@pytest.mark.parametrize(("codec", "reported"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("gbk", "gb18030"), ("gb18030", "gb18030"),
])
def test_every_encoding_reads_the_same_without_a_flag(tmp_path, codec, reported):
    path = write_csv(tmp_path / "monthly.csv", ZH_TABLE, encoding=codec)
    if codec == "utf-8-sig":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    export = read_export(path)
    assert export.encoding == reported
    assert export.table.column_names[0] == "period"  # the BOM is not part of the first header
    assert _rows(export) == ZH_ROWS
    assert export.lines.tolist() == [2, 3, 4]
    frame = validate(export).frame
    assert frame["branch_name"].tolist() == ["北京朝阳支行", "上海浦东支行", "北京朝阳支行"]
    assert frame["region"].tolist() == ["华北", "华东", "华北"]
    result = kpi("validate", path, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rows_valid"] == 3


@pytest.mark.parametrize("flag", ["gbk", "GBK", "gb2312", "gb18030"])
def test_encoding_flag_reads_gbk(tmp_path, flag):
    path = write_csv(tmp_path / "monthly.csv", ZH_TABLE, encoding="gbk")
    assert _rows(read_export(path, encoding=flag)) == ZH_ROWS
    assert kpi("validate", path, "--encoding", flag).exit_code == 0


def test_encoding_flag_overrides_detection(tmp_path):
    # The UTF-8 bytes of 北京 are also valid GBK: detection says UTF-8, the flag says otherwise.
    path = write_csv(tmp_path / "monthly.csv", "period,branch_id,branch_name\n2020-01,0001,北京\n")
    assert read_export(path).table.column("branch_name").to_pylist() == ["北京"]
    assert read_export(path, encoding="gbk").table.column("branch_name").to_pylist() == ["鍖椾含"]
    assert read_export(path, encoding="utf-8").table.column("branch_name").to_pylist() == ["北京"]


def test_leading_zeros_stay_text(tmp_path):
    path = write_csv(tmp_path / "monthly.csv",
                     "period,branch_id,txn_online,txn_total\n2020-01,0012,1,2\n2020-01,007,1,2\n2020-01,12,1,2\n")
    export = read_export(path)
    assert export.table.column("branch_id").type == pa.string()
    assert export.table.column("branch_id").to_pylist() == ["0012", "007", "12"]
    assert export.table.column("txn_online").to_pylist() == ["1", "1", "1"]  # cells reach the validator as text
    assert validate(export).frame["branch_id"].tolist() == ["0012", "007", "12"]


def test_crlf_line_endings(tmp_path):
    path = tmp_path / "monthly.csv"
    path.write_bytes(padded("period,branch_id,txn_online,txn_total\n2020-01,0001,1,2\n2020-01,0002,3,2\n")
                     .replace("\n", "\r\n").encode())
    export = read_export(path)
    assert export.table.column("branch_id").to_pylist() == ["0001", "0002"]
    assert export.table.column_names[-1] == REQUIRED_COLUMNS[-1]  # no '\r' left on the last header
    result = kpi("validate", path, "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["problems"][0]["examples"] == [{"line": 3, "value": "3 / 2"}]


def test_line_numbers_count_line_breaks_inside_quoted_values(tmp_path):
    blanks = "," * (len(REQUIRED_COLUMNS) - 4)  # the other measures, blank
    path = tmp_path / "monthly.csv"
    path.write_text("period,branch_id,branch_name," + ",".join(REQUIRED_COLUMNS[2:]) + "\n"
                    '2020-01,0001,"北京\n朝阳\n支行",1,2' + blanks + "\n"
                    '2020-01,0002,"上海, 浦东",3,2' + blanks + "\n", encoding="utf-8")
    export = read_export(path)
    assert export.table.column("branch_name").to_pylist() == ["北京\n朝阳\n支行", "上海, 浦东"]
    assert export.lines.tolist() == [2, 5]
    result = kpi("validate", path, "--format", "json")
    assert json.loads(result.stdout)["problems"][0]["examples"] == [{"line": 5, "value": "3 / 2"}]


# --- column mapping -----------------------------------------------------------------------


def test_chinese_mapping_covers_the_contract():
    columns = yaml.safe_load(ZH_MAPPING.read_text(encoding="utf-8"))["columns"]
    assert sorted(columns.values()) == sorted(CONTRACT_COLUMNS)
    assert columns["统计月份"] == "period"
    assert columns["网点编号"] == "branch_id"
    assert columns["网点名称"] == "branch_name"
    assert columns["所属区域"] == "region"
    assert columns["线上交易笔数"] == "txn_online"
    assert columns["交易总笔数"] == "txn_total"


def test_chinese_sample_is_gbk_with_chinese_headers():
    data = SAMPLE_ZH.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    header, _, body = data.decode("gbk").partition("\n")
    assert header.startswith("统计月份,网点编号,网点名称,所属区域,线上交易笔数,交易总笔数,")
    assert body == SAMPLE.read_text(encoding="utf-8").partition("\n")[2]  # same rows, byte for byte in meaning


def test_chinese_gbk_export_evaluates_like_the_english_one():
    zh = kpi("evaluate", SAMPLE_ZH, "--mapping", ZH_MAPPING, "--format", "json")
    en = kpi("evaluate", SAMPLE, "--format", "json")
    assert zh.exit_code == en.exit_code
    assert zh.exit_code in (0, 1)
    zh_results, en_results = json.loads(zh.stdout)["results"], json.loads(en.stdout)["results"]
    assert len(en_results) > 0
    assert zh_results == en_results


def test_chinese_export_without_the_mapping_fails_cleanly():
    result = kpi("validate", SAMPLE_ZH)
    assert result.exit_code == 2
    assert "none of the data contract's columns is in the header (it has 统计月份, 网点编号" in result.stderr
    assert "--mapping" in result.stderr


def test_mapping_to_an_unknown_column(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  统计月份: periode\n  网点编号: branch_id\n", encoding="utf-8")
    path = write_csv(tmp_path / "monthly.csv", "统计月份,网点编号\n2020-01,0001\n", encoding="gbk")
    result = kpi("validate", path, "--mapping", mapping)
    assert result.exit_code == 2
    assert f"{mapping}, value 'periode': '统计月份' maps to 'periode', which is not a column of the data contract" \
        in result.stderr
    assert "Did you mean 'period'?" in result.stderr


def test_mapping_file_missing_or_malformed(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", "period,branch_id\n2020-01,0001\n")
    result = kpi("validate", path, "--mapping", tmp_path / "none.yaml")
    assert result.exit_code == 2
    assert "column-mapping file not found" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    result = kpi("validate", path, "--mapping", bad)
    assert result.exit_code == 2
    assert "expected a mapping 'columns: {source header: contract column}'" in result.stderr


def test_mapping_two_headers_to_one_column(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  月份: period\n  统计月份: period\n", encoding="utf-8")
    path = write_csv(tmp_path / "monthly.csv", "period,branch_id\n2020-01,0001\n")
    result = kpi("validate", path, "--mapping", mapping)
    assert result.exit_code == 2
    assert "several source columns map to period" in result.stderr


def test_mapping_applies_to_parquet(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  统计月份: period\n  网点编号: branch_id\n", encoding="utf-8")
    table = contract_table(period=pa.array(["2020-01"]), branch_id=pa.array(["0012"]))
    table = table.rename_columns(["统计月份", "网点编号"] + table.column_names[2:])
    path = tmp_path / "monthly.parquet"
    pq.write_table(table, path)
    assert kpi("validate", path).exit_code == 2
    result = kpi("validate", path, "--mapping", mapping, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rows_valid"] == 1


def test_read_export_raises_input_file_error(tmp_path):
    with pytest.raises(InputFileError) as caught:
        read_export(tmp_path / "nope.parquet")
    assert caught.value.exit_code == 2

