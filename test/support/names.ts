/** Names of the databases the test harness creates, so teardown can find them. */
export const TEMPLATE_DATABASE = 'cutover_test_template'
export const TEST_DATABASE_PREFIX = 'cutover_test_f'
