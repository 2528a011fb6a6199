/**
 * `@herald/filter`: the Pub/Sub subscription filter language, parsed once and
 * evaluated per message on message attributes.
 */
export { DEFAULT_MAX_FILTER_LENGTH, type Filter, type ParseFilterOptions, matchAll, parseFilter } from './filter';
export { type Attributes } from './filter-compiler';
