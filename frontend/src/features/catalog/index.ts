export { CategoryNav, CategoryTitle } from './components/CategoryNav';
export { HomePage } from './components/HomePage';
export { ProductDetails } from './components/ProductDetails';
