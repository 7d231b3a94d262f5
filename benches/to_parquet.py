"""Converts WORK/data.csv (from `gramrec generate`) into WORK/data.parquet
(row groups of 1M rows) and WORK/partitioned/shard=N/ (pyarrow), for the
loading benchmarks (benches/inputs.sh, benches/parquet_ab.sh).

Usage: python benches/to_parquet.py WORK
"""
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv
import pyarrow.parquet as pq

work = sys.argv[1]
t = csv.read_csv(f"{work}/data.csv", convert_options=csv.ConvertOptions(column_types={"user": pa.string(), "item": pa.string()}))
pq.write_table(t, f"{work}/data.parquet", row_group_size=1_000_000)
shard = pc.cast(pc.utf8_slice_codeunits(t["user"], 1, 2), pa.string())
pq.write_to_dataset(t.append_column("shard", shard), f"{work}/partitioned", partition_cols=["shard"])
