// ESLint flat config: typescript-eslint's type-checked rules, hooks rules, no import cycles,
// strict equality. Generated bindings and build output are not linted.
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import importX from 'eslint-plugin-import-x'
import reactHooks from 'eslint-plugin-react-hooks'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'tests/dist/', 'src/bindings/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    plugins: { 'import-x': importX, 'react-hooks': reactHooks },
    settings: {
      'import-x/resolver-next': [
        importX.createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.json'] })
      ]
    },
    rules: {
      ...reactHooks.configs.recommended.rules,
      eqeqeq: ['error', 'always'],
      'import-x/no-cycle': 'error'
    }
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked
  },
  {
    // Node test runner files; callbacks passed to page.evaluate run in the browser.
    files: ['tests/**/*.mjs'],
    languageOptions: {
      globals: { URL: 'readonly', process: 'readonly', window: 'readonly', document: 'readonly' }
    }
  },
  prettier
)
