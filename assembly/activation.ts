// activation kernels (gelu, tanh, sign and their backwards): see src/backend/raw.ts.
