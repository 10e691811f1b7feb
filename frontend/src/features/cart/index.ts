export { AddToCartButton } from './components/AddToCartButton';
export { CartCount } from './components/CartCount';
export { CartPage } from './components/CartPage';
