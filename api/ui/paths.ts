/** The search page and its assets: static, holding no data, so open like /docs (the page sends its key to /v1). */
export const SEARCH_PAGE_PATH = '/ui';
export const SEARCH_PAGE_SCRIPT = '/ui/search.js';
export const SEARCH_PAGE_STYLE = '/ui/search.css';
export const SEARCH_PAGE_PATHS: readonly string[] = [SEARCH_PAGE_PATH, SEARCH_PAGE_SCRIPT, SEARCH_PAGE_STYLE];
