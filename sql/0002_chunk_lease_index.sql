-- Finding expired leases scans only the chunks still leased.
CREATE INDEX job_chunks_leased ON :CUTOVER_SCHEMA.job_chunks (job_id, lease_until) WHERE status = 'leased';
