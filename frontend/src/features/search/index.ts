export { SearchBox } from './components/SearchBox';
export { SearchResultsView } from './components/SearchResultsView';
