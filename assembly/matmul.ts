// matmul kernels: see src/backend/raw.ts for the contract of each export.
