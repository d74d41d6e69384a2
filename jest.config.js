// Three tiers: units beside the code, *.int.test.ts against the real services
// started by stack/, and e2e/ for flows across stages. `npm test` runs them in that order.
const tsJest = ['ts-jest', { diagnostics: false }];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/.stack/'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.test.ts'], testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.int\\.test\\.ts$', '\\.e2e\\.test\\.ts$'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/**/*.int.test.ts'], setupFiles: ['<rootDir>/e2e/support/load-stack-env.ts'], setupFilesAfterEnv: ['<rootDir>/e2e/support/timeout-integration.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/e2e/**/*.e2e.test.ts'], setupFiles: ['<rootDir>/e2e/support/load-stack-env.ts'], setupFilesAfterEnv: ['<rootDir>/e2e/support/timeout-e2e.ts'] },
  ],
};
