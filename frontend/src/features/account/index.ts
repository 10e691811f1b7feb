export { AddressesPage } from './components/AddressesPage';
export { EmailConfirmPage } from './components/EmailConfirmPage';
export { ProfilePage } from './components/ProfilePage';
export { SessionsPage } from './components/SessionsPage';
