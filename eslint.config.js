// ESLint: JavaScript and typescript-eslint recommended rules over the TypeScript sources,
// tests, benchmarks and scripts. Formatting is Prettier's job (npm run format:check).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      // Names starting with _ are deliberately unused (destructuring away fields, unused callback parameters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests and benchmarks read untyped JSON bodies from the API; typing every one adds nothing.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Migrations run against the schema as it was at each step, not today's Database type
    // (Kysely's documented pattern), and the paged query accepts any section's builder.
    files: ['src/store/migrations.ts', 'src/store/paged-query.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
