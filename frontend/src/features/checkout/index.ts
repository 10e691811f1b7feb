export { CheckoutPage } from './components/CheckoutPage';
export { useStartCheckout } from './api/checkout';
