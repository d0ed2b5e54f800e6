"""The contact import pipeline (PRODUCT.md §B, issue 4 item 4).

    upload ─ files.inspect_upload ─ format, encoding, delimiter, header, preview
    start  ─ mapping.mapping_validate ─ every whole-file problem refused up front
    run    ─ readers.open_rows (streamed, one row at a time)
           → rows.RowValidator, on pipeline.ChunkReader's thread (rejects go to a CSV)
           → staging.Merger, per chunk: COPY into a TEMP table, then set-based SQL,
             all in the import's one transaction

Nothing here loads a whole file: memory stays flat whatever the file size. Validation
(Python, one core) overlaps the merge (PostgreSQL, the other core). The services in
`engagex.contacts.services.imports` drive these steps.
"""
